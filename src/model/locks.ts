/**
 * Locks of their real kind (DESIGN.md §6). The structures are passive: they decide who
 * holds a lock and who waits, in FIFO order; the kernel model turns "waits" into sleeping
 * (a context switch, idle time) or spinning (kernel cycles charged as lock_wait), and
 * "granted" into wake-ups.
 *
 * - `RwSemaphore`: a sleeping reader-writer semaphore like Linux's `mmap_sem` (rwsem):
 *   readers share it, a writer holds it alone, and a reader arriving while a writer waits
 *   queues behind it (no writer starvation). mmap/munmap take it for writing, page faults
 *   for reading.
 * - `SpinLock`: a kernel spinlock; waiters spin in FIFO (ticket) order.
 * - `UserMutex`: an application lock (pthread mutex). Ownership is handed to the first
 *   waiter on unlock. How a contended lock waits differs by mechanism: futex syscalls
 *   under NPTL, user-level blocking under FlexSC-Threads.
 * - `SpinWaitMutex`: an application's own spin-then-sleep lock (InnoDB's mutex): waiters
 *   spin in user mode, then sleep; an unlock wakes every sleeper and the fastest takes it.
 */
export type RwMode = 'read' | 'write';

/** What kind of lock: a semaphore counts units and is never held. */
export type LockKind = 'rw-semaphore' | 'spinlock' | 'mutex' | 'spin-mutex' | 'semaphore';

/**
 * What every lock counts, for the run's evidence (`ID.meta.json` details): acquisitions,
 * those that had to wait, the cycles waiters spent queued (from queueing to being granted)
 * and the cycles the lock was held by anyone. Times come from `clock`, which the kernel
 * sets when the lock is registered (`Kernel.registerLock`); an unregistered lock counts
 * no time.
 */
export abstract class LockCounters {
  acquisitions = 0;
  contended = 0;
  waitCycles = 0;
  private heldSince = -1;
  private heldTotal = 0;
  clock: () => number = () => 0;

  abstract readonly name: string;
  abstract readonly kind: LockKind;

  /** Cycles held so far (a hold in progress counts up to now). */
  get heldCycles(): number {
    return this.heldTotal + (this.heldSince >= 0 ? this.clock() - this.heldSince : 0);
  }

  /** Call when the lock goes from free to held (`busy`) or from held to free. */
  protected holding(busy: boolean): void {
    if (busy && this.heldSince < 0) this.heldSince = this.clock();
    else if (!busy && this.heldSince >= 0) {
      this.heldTotal += this.clock() - this.heldSince;
      this.heldSince = -1;
    }
  }

  protected granted(since: number): void {
    this.waitCycles += this.clock() - since;
  }
}

export class RwSemaphore<W = unknown> extends LockCounters {
  readonly kind = 'rw-semaphore';
  private readers = 0;
  private writer = false;
  private readonly queue: { waiter: W; mode: RwMode; since: number }[] = [];

  constructor(readonly name: string) {
    super();
  }

  /** Grants at once (true) or queues `waiter` (false). */
  acquire(waiter: W, mode: RwMode): boolean {
    this.acquisitions++;
    const free = mode === 'read' ? !this.writer && this.queue.length === 0 : !this.writer && this.readers === 0;
    if (free) {
      if (mode === 'read') this.readers++;
      else this.writer = true;
      this.holding(true);
      return true;
    }
    this.contended++;
    this.queue.push({ waiter, mode, since: this.clock() });
    return false;
  }

  /** Releases one hold; returns the waiters now granted, in order. */
  release(mode: RwMode): W[] {
    if (mode === 'read') {
      if (this.readers <= 0) throw new Error(`${this.name}: read release without a reader`);
      this.readers--;
    } else {
      if (!this.writer) throw new Error(`${this.name}: write release without the writer`);
      this.writer = false;
    }
    const granted: W[] = [];
    const grant = (): void => {
      const q = this.queue.shift()!;
      this.granted(q.since);
      granted.push(q.waiter);
    };
    if (!this.writer && this.queue.length > 0) {
      if (this.queue[0].mode === 'write') {
        if (this.readers === 0) {
          this.writer = true;
          grant();
        }
      } else {
        while (this.queue.length > 0 && this.queue[0].mode === 'read') {
          this.readers++;
          grant();
        }
      }
    }
    this.holding(this.held);
    return granted;
  }

  get held(): boolean {
    return this.writer || this.readers > 0;
  }

  get waiting(): number {
    return this.queue.length;
  }
}

export class SpinLock<W = unknown> extends LockCounters {
  readonly kind = 'spinlock';
  private holder = false;
  private readonly spinners: { waiter: W; since: number }[] = [];

  constructor(readonly name: string) {
    super();
  }

  acquire(waiter: W): boolean {
    this.acquisitions++;
    if (!this.holder) {
      this.holder = true;
      this.holding(true);
      return true;
    }
    this.contended++;
    this.spinners.push({ waiter, since: this.clock() });
    return false;
  }

  /** Releases; returns the spinner that now holds the lock, if any. */
  release(): W | undefined {
    if (!this.holder) throw new Error(`${this.name}: release of a free spinlock`);
    const next = this.spinners.shift();
    if (next === undefined) {
      this.holder = false;
      this.holding(false);
      return undefined;
    }
    this.granted(next.since);
    return next.waiter;
  }

  get held(): boolean {
    return this.holder;
  }
}

export class UserMutex<W = unknown> extends LockCounters {
  readonly kind = 'mutex';
  private owner: W | undefined;
  private readonly waiters: { waiter: W; since: number }[] = [];
  /** Cache line of the lock word, placed by the process that uses it (coherence is charged on it). */
  line = -1;

  constructor(readonly name: string) {
    super();
  }

  /** Takes the lock (true) or queues (false). */
  lock(who: W): boolean {
    this.acquisitions++;
    if (this.owner === undefined) {
      this.owner = who;
      this.holding(true);
      return true;
    }
    if (this.owner === who) throw new Error(`${this.name}: relocked by its owner`);
    this.contended++;
    this.waiters.push({ waiter: who, since: this.clock() });
    return false;
  }

  /** Unlocks; ownership passes to the first waiter, which is returned (it must be woken). */
  unlock(who: W): W | undefined {
    if (this.owner !== who) throw new Error(`${this.name}: unlocked by a thread that does not hold it`);
    const next = this.waiters.shift();
    if (next === undefined) {
      this.owner = undefined;
      this.holding(false);
      return undefined;
    }
    this.granted(next.since);
    this.owner = next.waiter;
    return next.waiter;
  }

  get hasWaiters(): boolean {
    return this.waiters.length > 0;
  }

  get held(): boolean {
    return this.owner !== undefined;
  }
}

/**
 * User instructions of a pthread mutex lock or unlock fast path (a lock-prefixed
 * compare-and-swap on the lock word plus the call): estimate, the same under every
 * mechanism.
 */
export const MUTEX_FAST_PATH_INSTRUCTIONS = 20;

/**
 * An application semaphore (a work queue's count, a condition with a counter): `wait`
 * takes a unit or queues the caller; `post` hands a unit to the first waiter (returned:
 * it must be woken) or keeps it. Like `UserMutex`, how a waiter waits differs by
 * mechanism: a `futex` wait call under NPTL, user-level blocking under FlexSC-Threads.
 */
export class UserSemaphore<W = unknown> extends LockCounters {
  readonly kind = 'semaphore';
  private units = 0;
  private readonly waiters: { waiter: W; since: number }[] = [];
  /** Cache line of the semaphore word (see `UserMutex.line`). */
  line = -1;

  constructor(readonly name: string) {
    super();
  }

  /** A wait is an acquisition; a semaphore is never "held", so its held cycles stay 0. */
  wait(who: W): boolean {
    this.acquisitions++;
    if (this.units > 0) {
      this.units--;
      return true;
    }
    this.contended++;
    this.waiters.push({ waiter: who, since: this.clock() });
    return false;
  }

  post(): W | undefined {
    const w = this.waiters.shift();
    if (w === undefined) {
      this.units++;
      return undefined;
    }
    this.granted(w.since);
    return w.waiter;
  }

  get waiting(): number {
    return this.waiters.length;
  }
}

/**
 * How a spin-then-sleep mutex spins before it sleeps: InnoDB's `mutex_spin_wait`
 * (MySQL 5.5, `sync0sync.c`). Up to `rounds` rounds, each a `ut_delay` of a random 0 …
 * `maxDelay` units (both limits included) of `iterationsPerDelay` iterations of a `pause`
 * loop, with the lock word read between rounds.
 */
export interface SpinPolicy {
  /** `innodb_sync_spin_loops` (MySQL 5.5 default 30). */
  rounds: number;
  /**
   * `innodb_spin_wait_delay` (default 6): each round's delay is `ut_rnd_interval(0, 6)`,
   * which draws 0 … 6 — `ut0rnd.ic` returns `low + rnd % (high - low + 1)`, both limits
   * included.
   */
  maxDelay: number;
  /** `ut_delay(d)` runs `d * 50` iterations of `j += i; pause`. */
  iterationsPerDelay: number;
}

/** MySQL 5.5's defaults (innodb_sync_spin_loops = 30, innodb_spin_wait_delay = 6; ut_delay's 50). */
export const INNODB_SPIN: SpinPolicy = { rounds: 30, maxDelay: 6, iterationsPerDelay: 50 };

/**
 * A spin-then-sleep mutex: InnoDB's own mutex (`ib_mutex_t`), not a pthread mutex. The lock
 * is a test-and-set word: whoever finds it free takes it (barging — there is no hand-off
 * and no queue order). A thread that finds it taken spins (`SpinPolicy`), yields once, and
 * at last sleeps in the wait array after setting the waiters flag; `unlock` clears the word
 * and, when the flag is set, wakes **every** sleeper (`os_event_set` is a broadcast), each
 * of which starts over. Spinning is user-mode work whoever holds the lock — on one core
 * too, where it cannot succeed until the holder runs again.
 */
export class SpinWaitMutex<W = unknown> extends LockCounters {
  readonly kind = 'spin-mutex';
  private owner: W | undefined;
  private readonly sleepers: W[] = [];
  /** When each thread that found the lock taken first tried (for `waitCycles`). */
  private readonly since = new Map<W, number>();
  /** Cache line of the lock word (see `UserMutex.line`). */
  line = -1;
  /** Times a thread went to sleep on it (after spinning and a last try). */
  sleeps = 0;

  constructor(
    readonly name: string,
    readonly spin: SpinPolicy = INNODB_SPIN,
  ) {
    super();
  }

  /**
   * One test-and-set. `first`: the attempt of `mutex_enter` itself (an acquisition; when it
   * fails, a contended one); later attempts come from the spin-wait loop.
   */
  tryLock(who: W, first = false): boolean {
    if (first) this.acquisitions++;
    if (this.owner === who) throw new Error(`${this.name}: relocked by its owner`);
    if (this.owner === undefined) {
      this.owner = who;
      this.holding(true);
      const t = this.since.get(who);
      if (t !== undefined) {
        this.granted(t);
        this.since.delete(who);
      }
      return true;
    }
    if (first) {
      this.contended++;
      this.since.set(who, this.clock());
    }
    return false;
  }

  /** Reserves a wait cell and sets the waiters flag: `who` is woken by the next unlock. */
  addSleeper(who: W): void {
    if (!this.sleepers.includes(who)) this.sleepers.push(who);
  }

  /** Frees the wait cell of a thread that got the lock before sleeping. */
  removeSleeper(who: W): void {
    const i = this.sleepers.indexOf(who);
    if (i >= 0) this.sleepers.splice(i, 1);
  }

  /** Clears the lock word; returns every sleeper (all must be woken; each tries again). */
  unlock(who: W): W[] {
    if (this.owner !== who) throw new Error(`${this.name}: unlocked by a thread that does not hold it`);
    this.owner = undefined;
    this.holding(false);
    return this.sleepers.splice(0, this.sleepers.length);
  }

  get held(): boolean {
    return this.owner !== undefined;
  }

  get sleeping(): number {
    return this.sleepers.length;
  }
}

/** What a thread entering a `SpinWaitMutex` does next (see `spinWaitEnter`). */
export type SpinWaitStep =
  /** One round of the delay loop: `iterations` iterations of `j += i; pause`, then a read of the lock word. */
  | { kind: 'delay'; iterations: number }
  /** `os_thread_yield()`: a `sched_yield` call. */
  | { kind: 'yield' }
  /** `os_event_wait()`: sleep until an unlock wakes the sleepers. */
  | { kind: 'sleep' };

/**
 * InnoDB's `mutex_enter` as a sequence of steps: the generator returns when `who` holds
 * the mutex. The lock word is read (and test-and-set tried) at the simulated time the
 * generator is resumed, which is when the thread's previous step ended.
 */
export function* spinWaitEnter<W>(m: SpinWaitMutex<W>, who: W, random: () => number): Generator<SpinWaitStep, void, undefined> {
  if (m.tryLock(who, true)) return;
  const { rounds, maxDelay, iterationsPerDelay } = m.spin;
  for (;;) {
    // mutex_loop
    let i = 0;
    for (;;) {
      // spin_loop: wait for the word to read free, a bounded number of rounds
      while (m.held && i < rounds) {
        yield { kind: 'delay', iterations: iterationsPerDelay * Math.floor(random() * (maxDelay + 1)) };
        i++;
      }
      if (i === rounds) yield { kind: 'yield' };
      if (m.tryLock(who)) return;
      i++;
      if (i >= rounds) break;
    }
    // Reserve a wait cell, set the waiters flag, try once more (InnoDB tries 4 times at once), then sleep.
    m.addSleeper(who);
    if (m.tryLock(who)) {
      m.removeSleeper(who);
      return;
    }
    m.sleeps++;
    yield { kind: 'sleep' };
  }
}

/** A thread's entry into a `SpinWaitMutex` in progress: the mutex and the steps left (`spinWaitEnter`). */
export class SpinWaitEntry<W> {
  readonly steps: Generator<SpinWaitStep, void, undefined>;

  constructor(
    readonly mutex: SpinWaitMutex<W>,
    who: W,
    random: () => number,
  ) {
    this.steps = spinWaitEnter(mutex, who, random);
  }
}
