/**
 * A wait channel: what a blocking system call sleeps on — a socket waiting for a client's
 * data, a listening socket waiting for a connection, a pipe, an event. Producers `post`
 * tokens (one per datum); a call that finds a token takes it and goes on, otherwise its
 * thread sleeps on the channel until a post hands it one (FIFO). The channel is passive:
 * the kernel model does the waking (and any interrupt that precedes it).
 */
export class WaitChannel<W = unknown> {
  private tokens = 0;
  private readonly waiters: W[] = [];
  posted = 0;

  constructor(readonly name: string) {}

  /** Takes a token if one is there; otherwise queues `waiter` and returns false. */
  take(waiter: W): boolean {
    if (this.tokens > 0) {
      this.tokens--;
      return true;
    }
    this.waiters.push(waiter);
    return false;
  }

  /** Adds a token: returns the waiter it wakes (which takes the token), or undefined if none waits. */
  post(): W | undefined {
    this.posted++;
    const w = this.waiters.shift();
    if (w === undefined) this.tokens++;
    return w;
  }

  get available(): number {
    return this.tokens;
  }

  get waiting(): number {
    return this.waiters.length;
  }
}
