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
 * Measurement starts after `warmup` requests complete and stops after `measured` more —
 * or, when the run may spend more (`maxWindows`), once a window is steady and precise: a
 * window whose throughput still drifts is counted as warm-up and a new one starts, and a
 * window whose drift is unclear (`driftUnclear`) or whose interval is wide is lengthened.
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
import { LatencyHistogram, ci95Pct, trendPct } from '../../report/stats.js';

/**
 * The largest drift (percent of the mean, first batch to last, `trendPct`) a window may show
 * and still count as a steady state: the throughput precision the experiments aim at (±3 %).
 */
export const DRIFT_LIMIT_PCT = 3;

/** The throughput interval (95 %, percent of the mean) a run lengthens its window for. */
export const PRECISION_TARGET_PCT = 3;

/**
 * A window is not yet a steady state when its batch means drift by more than
 * `DRIFT_LIMIT_PCT` and the drift is significant (its 95 % interval excludes zero): a
 * transient the warm-up did not outlast.
 */
export function drifting(t: { driftPct: number; halfWidthPct: number }, limitPct = DRIFT_LIMIT_PCT): boolean {
  return Math.abs(t.driftPct) > limitPct && Math.abs(t.driftPct) > t.halfWidthPct;
}

/**
 * The smallest drift a summary names as slow (`slowDrift`): a linear drift of 1 % across a
 * window moves its mean by half a point, small against the 3 % precision the experiments
 * ask for. Smooth high-concurrency windows make even a 0.03 % trend significant (Fig. 11,
 * 1 core, 512 clients, sync: −0.0 ± 0.0 %); naming those would bury the ones that matter.
 */
export const SLOW_DRIFT_FLOOR_PCT = 1;

/**
 * A window the rule lets through whose drift is nevertheless significant and not tiny:
 * between `SLOW_DRIFT_FLOOR_PCT` and the limit, and its 95 % interval excludes zero. A
 * transient slower than one window looks like this (Apache-like, 4 cores, 768 clients,
 * FlexSC, seed 1: −2.5 ± 2.3 % in its first window, then a fall from 42 K to 28.5 K
 * requests/s over the next 40,000 requests), and so does a steady point's noise now and
 * then. A run that may spend more chunks (`maxWindows`) lengthens such a window and tests
 * it again (`driftUnclear`); the summaries name the points whose reported window still
 * drifts slowly.
 */
export function slowDrift(t: { driftPct: number; halfWidthPct: number }, limitPct = DRIFT_LIMIT_PCT): boolean {
  return !drifting(t, limitPct) && Math.abs(t.driftPct) > t.halfWidthPct && Math.abs(t.driftPct) >= SLOW_DRIFT_FLOOR_PCT;
}

/**
 * A window whose drift the rule can neither accept nor call a transient yet: a slow drift
 * (`slowDrift`), or a drift past the limit that the window's own noise cannot confirm
 * (Apache-like, 4 cores, 768 clients, FlexSC, seed 1, third window: −4.3 ± 7.5 %, in the
 * middle of a fall from 42 K to 28.5 K requests/s). A run with chunks to spare
 * (`maxWindows`) measures such a window longer: a transient's drift grows past the limit
 * and becomes significant, noise averages away.
 */
export function driftUnclear(t: { driftPct: number; halfWidthPct: number }, limitPct = DRIFT_LIMIT_PCT): boolean {
  return slowDrift(t, limitPct) || (Math.abs(t.driftPct) > limitPct && Math.abs(t.driftPct) <= t.halfWidthPct);
}

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
   * Chunks of `measured` requests a run may spend after its warm-up looking for a steady,
   * precise window (1, the default: measure one window and report it). When a window ends:
   * if its batch means drift (`drifting`) it was still warm-up, and a new window of
   * `measured` requests starts where it ended; else if its drift is unclear
   * (`driftUnclear`) or its throughput interval is wider than `PRECISION_TARGET_PCT`, it is
   * lengthened by `measured` requests and tested again. The window is reported once it is
   * steady, its drift clear, and precise, or when the chunks run out.
   */
  maxWindows?: number;
  /** The drift a window may show and pass as steady (`drifting`; default `DRIFT_LIMIT_PCT`). */
  driftLimitPct?: number;
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
  latency = new LatencyHistogram();
  /** Times of the messages answered inside the measured window, in order (for batch means). */
  private readonly measuredReplies: number[] = [];
  start: Snapshot | null = null;
  end: Snapshot | null = null;
  messages = 0;
  /** Most connections ever waiting in the backlog. */
  maxBacklog = 0;
  /** Requests completed when the current window opened (the warm-up, extended by drifting windows). */
  warmupDone: number;
  /** Requests the current window measures. */
  windowLength: number;
  /** Windows opened (the last one is reported), and chunks of `measured` requests spent. */
  windows = 1;
  private chunks = 1;
  /** Times a window was lengthened because its drift was unclear (`driftUnclear`). */
  driftLengthenings = 0;
  /** Times a steady window was lengthened because its throughput interval was over 3 %. */
  intervalLengthenings = 0;
  /** The reported window's trend (`drifting`), once measured. */
  trend: { driftPct: number; halfWidthPct: number } | null = null;

  /** Whether the reported window passed as steady under the run's limit; null without a trend. */
  get steady(): boolean | null {
    return this.trend === null ? null : !drifting(this.trend, this.opts.driftLimitPct);
  }

  constructor(
    readonly k: Kernel,
    readonly opts: ClosedLoopOptions,
  ) {
    this.warmupDone = opts.warmup;
    this.windowLength = opts.measured;
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
    const from = this.warmupDone;
    if (this.completed === from) this.start = this.snapshot(now);
    if (this.completed > from && this.completed <= from + this.windowLength) {
      this.latency.record(now - conn.startedAt);
      if (this.completed === from + this.windowLength) {
        const batches = this.batchRates(this.start!.time);
        this.trend = batches.length >= 3 ? trendPct(batches) : null;
        if (this.chunks < (o.maxWindows ?? 1)) {
          this.chunks++;
          if (this.trend !== null && drifting(this.trend, o.driftLimitPct)) {
            // Not yet a steady state: this window was warm-up too; measure a new one.
            this.windows++;
            this.warmupDone = this.completed;
            this.windowLength = o.measured;
            this.start = this.snapshot(now);
            this.measuredReplies.length = 0;
            this.latency = new LatencyHistogram();
            return;
          }
          if (this.trend !== null && driftUnclear(this.trend, o.driftLimitPct)) {
            // A slow but real trend, or a large one lost in noise: a transient slower than
            // one window looks like this, and so does noise now and then. Measure longer.
            this.windowLength += o.measured;
            this.driftLengthenings++;
            return;
          }
          if (ci95Pct(batches) > PRECISION_TARGET_PCT) {
            // Steady but not yet precise: measure longer.
            this.windowLength += o.measured;
            this.intervalLengthenings++;
            return;
          }
        }
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
    const perCycle = this.measuredReplies.length / this.opts.roundTrips / (this.end.time - this.start.time);
    const batches = this.batchRates(this.start.time);
    if (process.env.FLEXSC_DEBUG) process.stderr.write(`batches (per Mcycle): ${batches.map((b) => (b * 1e6).toFixed(2)).join(' ')}\n`);
    return { perCycle, ci95Pct: ci95Pct(batches) };
  }

  /** Requests per cycle of each batch of the window's answered messages, in order, from `start`. */
  private batchRates(start: number): number[] {
    const t = this.measuredReplies;
    const trips = this.opts.roundTrips;
    const n = this.opts.batches;
    const size = Math.floor(t.length / n);
    const batches: number[] = [];
    let from = start;
    for (let b = 0; b < n; b++) {
      const to = t[(b + 1) * size - 1];
      batches.push(size / trips / (to - from));
      from = to;
    }
    return batches;
  }

  /** Requests in the reported window. */
  get measuredRequests(): number {
    return this.windowLength;
  }

  /** Kernel paths run per measured request, by kind, over the measured window. */
  callsPerRequest(): Record<string, number> {
    if (this.start === null || this.end === null) throw new Error('the run ended before its measurement window completed');
    const out: Record<string, number> = {};
    for (const name of [...this.end.calls.keys()].sort()) {
      out[name] = ((this.end.calls.get(name) ?? 0) - (this.start.calls.get(name) ?? 0)) / this.windowLength;
    }
    return out;
  }

  /** The registered locks over the measured window, by name. */
  lockStats(): Record<string, LockStats> {
    if (this.start === null || this.end === null) throw new Error('the run ended before its measurement window completed');
    const n = this.windowLength;
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
