/**
 * The client side of a closed-loop server benchmark (DESIGN.md §7): C clients, each with
 * one request outstanding, as ApacheBench, sysbench and dnsperf run them. A request is
 * `roundTrips` messages: the client sends one, the server answers, the client sends the
 * next (a sysbench transaction is ~20 queries; an HTTP request or a DNS query is one).
 *
 * Everything outside the server machine — the network both ways and the client's own
 * processing — is a delay station: each message reaches the server an exponentially
 * distributed time (mean `delayCycles`, calibrated on the paper's concurrency-1 points)
 * after the client got the previous answer. A message arrives by a network interrupt on
 * the core its flow hashes to (connection number modulo cores, as a multi-queue NIC
 * spreads flows), whose handler runs the receive path and then makes the message
 * available: on the listening socket's backlog (a new connection, per-request servers)
 * or on the connection (persistent ones). Connections the server has no thread for wait
 * in the backlog, using no CPU but counted in latency.
 *
 * Latency is the client's: from the moment it started the request (when it got its
 * previous answer) to the last answer, so latency ≈ concurrency / throughput (Little's law).
 * Measurement starts after `warmup` requests complete and stops after `measured` more.
 * Throughput is counted in answered messages over that window, divided by `roundTrips`:
 * in a steady state that is the request rate, and it does not depend on where the window's
 * ends fall among requests that complete in clumps (a sysbench transaction is 20 queries;
 * clients that progress at the same fair share of the CPU finish their transactions
 * together, and a window of a few hundred transactions then holds more or fewer clumps).
 * Its confidence interval comes from batch means over the answered messages. For
 * one-message requests (HTTP, DNS) messages and requests are the same.
 */
import { CycleStack } from '../../hw/cycle-stack.js';
import type { SimRandom } from '../../model/engine.js';
import type { FootprintRunner } from '../../model/footprint.js';
import type { Kernel, Task } from '../../model/kernel.js';
import type { LockKind } from '../../model/locks.js';
import { WaitChannel } from '../../model/wait-channel.js';
import { LatencyHistogram, ci95Pct } from '../../report/stats.js';

export class Connection {
  /** Messages from the client the server has not read yet. */
  readonly data: WaitChannel<Task>;
  /** When the client started its current request. */
  startedAt = 0;
  /** Messages of the current request already answered. */
  answered = 0;

  constructor(
    readonly id: number,
    /** The client (0 … C−1) that owns it. */
    readonly client: number,
  ) {
    this.data = new WaitChannel<Task>(`conn${id}`);
  }
}

export interface ClosedLoopOptions {
  clients: number;
  /** Messages per request. */
  roundTrips: number;
  /** Mean client + network delay per message, cycles. */
  delayCycles: number;
  /** A new connection per request (HTTP without keep-alive) or one per client for the whole run. */
  connections: 'per-request' | 'persistent';
  /** The network receive interrupt: its handler and instructions per message. */
  rx: { handler: FootprintRunner; instructions: number };
  warmup: number;
  measured: number;
  /** Batches for the batch-means confidence interval. */
  batches: number;
  /**
   * The clients' first requests are spread uniformly over this many cycles (about the time
   * the server needs to serve them all once), so the run does not start with every client
   * in lock-step and reaches its steady state after a short warm-up.
   */
  startSpreadCycles: number;
  rng: SimRandom;
}

/** A snapshot of the machine's counters. */
export interface Snapshot {
  time: number;
  stacks: CycleStack[];
  /** Kernel paths run so far, by kind. */
  calls: Map<string, number>;
  /** The registered locks' counters so far, by name. */
  locks: Map<string, { kind: LockKind; acquisitions: number; contended: number; waitCycles: number; heldCycles: number }>;
}

/** A lock's behaviour over the measured window (`ClosedLoop.lockStats`). */
export interface LockStats {
  kind: LockKind;
  /** Acquisitions (semaphore waits) per measured request. */
  acquisitionsPerRequest: number;
  /** Share of the acquisitions that had to queue, percent. */
  contendedPct: number;
  /** Cycles spent queued for the lock per measured request (summed over waiters). */
  waitCyclesPerRequest: number;
  /** Threads queued for the lock, on average over the window. */
  meanWaiters: number;
  /** Share of the window during which the lock was held, percent (0 for a semaphore). */
  heldPct: number;
}

export class ClosedLoop {
  /** Connections waiting to be accepted (per-request servers). */
  readonly listen = new WaitChannel<Task>('listen');
  private readonly backlog: Connection[] = [];
  /** The clients' persistent connections. */
  readonly persistent: Connection[] = [];
  private nextConnection = 0;
  completed = 0;
  readonly latency = new LatencyHistogram();
  /** Times of the messages answered inside the measured window, in order (for batch means). */
  private readonly measuredReplies: number[] = [];
  start: Snapshot | null = null;
  end: Snapshot | null = null;
  messages = 0;
  /** Most connections ever waiting in the backlog. */
  maxBacklog = 0;

  constructor(
    readonly k: Kernel,
    readonly opts: ClosedLoopOptions,
  ) {
    if (opts.connections === 'persistent') {
      for (let c = 0; c < opts.clients; c++) this.persistent.push(new Connection(this.nextConnection++, c));
    }
  }

  /** Every client sends its first message, the starts spread over `startSpreadCycles`. */
  begin(): void {
    for (let c = 0; c < this.opts.clients; c++) {
      const conn = this.opts.connections === 'persistent' ? this.persistent[c] : new Connection(this.nextConnection++, c);
      const at = this.k.now + this.opts.rng.random() * this.opts.startSpreadCycles;
      this.k.at(at, () => {
        conn.startedAt = this.k.now;
        this.send(conn);
      });
    }
  }

  private delay(): number {
    return this.opts.rng.exponential(1 / this.opts.delayCycles);
  }

  /** The client's next message leaves now and reaches the server after the delay. */
  private send(conn: Connection): void {
    const k = this.k;
    k.at(k.now + this.delay(), () => {
      this.messages++;
      const cpu = k.cpus[conn.id % k.cpus.length];
      k.raise(cpu, {
        name: 'net-rx',
        handler: this.opts.rx.handler,
        instructions: this.opts.rx.instructions,
        effect: () => this.arrive(conn),
      });
    });
  }

  private arrive(conn: Connection): void {
    if (this.opts.connections === 'per-request' && conn.answered === 0) {
      this.backlog.push(conn);
      this.maxBacklog = Math.max(this.maxBacklog, this.backlog.length);
      this.k.post(this.listen);
    } else {
      this.k.post(conn.data);
    }
  }

  /** The server accepted a connection (after its accept call took a listen token). */
  accept(): Connection {
    const c = this.backlog.shift();
    if (c === undefined) throw new Error('accept without a pending connection');
    return c;
  }

  /** The server's answer to the connection's current message has left (call from a reply's onDone). */
  reply(conn: Connection, now: number): void {
    // Inside the window (start, end]: the answer that completes the warm-up opens it and is
    // not counted; the one that completes the last measured request closes it and is.
    if (this.start !== null && this.end === null) this.measuredReplies.push(now);
    conn.answered++;
    if (conn.answered < this.opts.roundTrips) {
      this.send(conn);
      return;
    }
    this.complete(conn, now);
    conn.answered = 0;
    if (this.k.isStopped) return;
    const next = this.opts.connections === 'persistent' ? conn : new Connection(this.nextConnection++, conn.client);
    next.startedAt = now;
    this.send(next);
  }

  private complete(conn: Connection, now: number): void {
    this.completed++;
    const o = this.opts;
    if (this.completed === o.warmup) this.start = this.snapshot(now);
    if (this.completed > o.warmup && this.completed <= o.warmup + o.measured) {
      this.latency.record(now - conn.startedAt);
      if (this.completed === o.warmup + o.measured) {
        this.end = this.snapshot(now);
        this.k.stop();
      }
    }
  }

  private snapshot(now: number): Snapshot {
    // Idle cores are brought up to now; busy ones may be mid-segment, their clocks ahead
    // of the engine by at most one bounded segment — negligible against a measurement of
    // thousands of requests.
    this.k.settle();
    return {
      time: now,
      calls: new Map(this.k.calls),
      locks: new Map(this.k.locks.map((l) => [l.name, { kind: l.kind, acquisitions: l.acquisitions, contended: l.contended, waitCycles: l.waitCycles, heldCycles: l.heldCycles }])),
      stacks: this.k.cpus.map((c) => {
        const s = new CycleStack();
        s.addFrom(c.core.stack);
        return s;
      }),
    };
  }

  /**
   * Requests per cycle over the measured window (answered messages / `roundTrips`), with the
   * batch-means CI (percent of the mean) over consecutive equal runs of answered messages.
   */
  throughput(): { perCycle: number; ci95Pct: number } {
    if (this.start === null || this.end === null) throw new Error('the run ended before its measurement window completed');
    const t = this.measuredReplies;
    const trips = this.opts.roundTrips;
    const perCycle = t.length / trips / (this.end.time - this.start.time);
    const n = this.opts.batches;
    const size = Math.floor(t.length / n);
    const batches: number[] = [];
    let from = this.start.time;
    for (let b = 0; b < n; b++) {
      const to = t[(b + 1) * size - 1];
      batches.push(size / trips / (to - from));
      from = to;
    }
    if (process.env.FLEXSC_DEBUG) process.stderr.write(`batches (per Mcycle): ${batches.map((b) => (b * 1e6).toFixed(2)).join(' ')}\n`);
    return { perCycle, ci95Pct: ci95Pct(batches) };
  }

  /** Kernel paths run per measured request, by kind, over the measured window. */
  callsPerRequest(): Record<string, number> {
    if (this.start === null || this.end === null) throw new Error('the run ended before its measurement window completed');
    const out: Record<string, number> = {};
    for (const name of [...this.end.calls.keys()].sort()) {
      out[name] = ((this.end.calls.get(name) ?? 0) - (this.start.calls.get(name) ?? 0)) / this.opts.measured;
    }
    return out;
  }

  /** The registered locks over the measured window, by name. */
  lockStats(): Record<string, LockStats> {
    if (this.start === null || this.end === null) throw new Error('the run ended before its measurement window completed');
    const n = this.opts.measured;
    const cycles = this.end.time - this.start.time;
    const out: Record<string, LockStats> = {};
    for (const [name, e] of this.end.locks) {
      const s = this.start.locks.get(name) ?? { acquisitions: 0, contended: 0, waitCycles: 0, heldCycles: 0 };
      const acquisitions = e.acquisitions - s.acquisitions;
      out[name] = {
        kind: e.kind,
        acquisitionsPerRequest: acquisitions / n,
        contendedPct: acquisitions > 0 ? (100 * (e.contended - s.contended)) / acquisitions : 0,
        waitCyclesPerRequest: (e.waitCycles - s.waitCycles) / n,
        meanWaiters: cycles > 0 ? (e.waitCycles - s.waitCycles) / cycles : 0,
        heldPct: cycles > 0 ? (100 * (e.heldCycles - s.heldCycles)) / cycles : 0,
      };
    }
    return out;
  }

  /** The machine's counters over the measured window, summed over cores and per core. */
  window(): { total: CycleStack; perCore: CycleStack[]; cycles: number } {
    if (this.start === null || this.end === null) throw new Error('the run ended before its measurement window completed');
    const perCore = this.end.stacks.map((e, i) => {
      const d = new CycleStack();
      d.addFrom(e);
      d.subtract(this.start!.stacks[i]);
      return d;
    });
    const total = new CycleStack();
    for (const s of perCore) total.addFrom(s);
    return { total, perCore, cycles: this.end.time - this.start.time };
  }
}
