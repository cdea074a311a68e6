/**
 * Closed-loop server runs (DESIGN.md §7): a server workload on a machine of `cores` cores
 * under one syscall mechanism, driven by `concurrency` clients, measured after a warm-up.
 *
 * A workload supplies its user footprint, its client model (round trips per request,
 * delay per message, per-request or persistent connections) and the programs of its
 * threads. The programs are the same under both mechanisms: NPTL threads (`sync`) or
 * FlexSC-Threads user threads (`flexsc`). The result carries what the paper's figures and
 * tables report — throughput with its confidence interval, latency, IPC and misses per
 * kilo-instruction per mode, the time breakdown — and the cycle stack behind them.
 */
import { KERNEL, USER } from '../../hw/cache-array.js';
import type { CycleStack } from '../../hw/cycle-stack.js';
import { createRandom } from '../../model/engine.js';
import { FlexscThreads } from '../../model/flexsc-threads.js';
import type { FootprintSpec } from '../../model/footprint.js';
import { Kernel, type Process } from '../../model/kernel.js';
import type { Program } from '../../model/program.js';
import { NptlThread } from '../../model/sync-path.js';
import { SYSCALLS, type SyscallSpec } from '../../model/syscalls.js';
import type { RunConfig } from '../../run-config.js';
import { ClosedLoop, type LockStats } from './closed-loop.js';

export type Mechanism = 'sync' | 'flexsc';

/** What a workload's thread builder gets. */
export interface ServerContext {
  k: Kernel;
  loop: ClosedLoop;
  mechanism: Mechanism;
  concurrency: number;
  /** Starts a server thread running `program`. */
  spawn(name: string, program: Program): void;
}

export interface ServerWorkload {
  id: string;
  /** The server's user code and data. */
  footprint: FootprintSpec;
  roundTrips: number;
  connections: 'per-request' | 'persistent';
  /** Mean client + network delay per message, µs (calibrated on the paper's concurrency-1 point). */
  clientDelayUs: number;
  /** Rough CPU time of one request on one core, µs: only spreads the clients' first requests. */
  serviceEstimateUs: number;
  /** Kernel paths of the workload's own (added to the catalog), e.g. reads of its data files. */
  syscalls?: Readonly<Record<string, SyscallSpec>>;
  /** Starts the server's threads. */
  start(ctx: ServerContext): void;
}

export interface ServerRunOptions {
  cores: number;
  concurrency: number;
  mechanism: Mechanism;
  seed: number;
  /** Requests completed before measuring, and measured. */
  warmup: number;
  measured: number;
  /** Batches for the throughput confidence interval. */
  batches?: number;
  /**
   * Chunks of `measured` requests the run may spend until a window is steady and precise
   * (`ClosedLoopOptions.maxWindows`); default 1: one window.
   */
  maxWindows?: number;
  /** The drift a window may show and pass as steady (`ClosedLoopOptions.driftLimitPct`). */
  driftLimitPct?: number;
  /** Syscall catalog (calibration tools replace shapes). */
  syscalls?: Readonly<Record<string, SyscallSpec>>;
}

export interface ModeMetrics {
  ipc: number;
  l3_mpki: number;
  l2_mpki: number;
  l1d_mpki: number;
  l1i_mpki: number;
  tlb_mpki: number;
  /** Page walks (second-level TLB misses) per kilo-instruction. */
  tlb_walk_mpki: number;
  branch_mpki: number;
  instructions: number;
}

export interface ServerResult {
  throughputRps: number;
  throughputCi95Pct: number;
  latencyMeanMs: number;
  latencyP99Ms: number;
  user: ModeMetrics;
  kernel: ModeMetrics;
  /** Shares of all cores' cycles in the window, percent. */
  userPct: number;
  kernelPct: number;
  idlePct: number;
  /** The window's cycle stack summed over cores (cycles per request). */
  stackPerRequest: Record<string, number>;
  /** Syscalls (entries posted under FlexSC) per request, and kernel work split. */
  syscallsPerRequest: number;
  userInstructionsPerRequest: number;
  kernelInstructionsPerRequest: number;
  /** Cores' kernel share of their own cycles (which cores ran kernel work). */
  kernelPctByCore: number[];
  maxBacklog: number;
  /** Requests completed before the reported window: the warm-up and any drifting windows. */
  warmupRequests: number;
  /** Requests in the reported window (`measured`, or more when it was lengthened). */
  measuredRequests: number;
  /** Windows opened (`maxWindows`); the last is reported. */
  windows: number;
  /** Times a window was lengthened because its drift was unclear (`driftUnclear`). */
  driftLengthenings: number;
  /** Times a steady window was lengthened because its throughput interval was over 3 %. */
  intervalLengthenings: number;
  /**
   * The reported window's throughput drift, first batch to last (percent; `trendPct`), and
   * whether it passed as a steady state (`drifting`); null when the window has too few
   * batches for a trend.
   */
  windowDriftPct: number | null;
  /** The drift's 95 % half-width (percent); null with the drift. */
  windowDriftHalfWidthPct: number | null;
  steady: boolean | null;
  /** Instructions simulated in the whole run (every core, both modes, warm-up included). */
  simulatedInstructions: number;
  /** Kernel paths run per measured request, by catalog kind, over the measured window. */
  callsPerRequest: Record<string, number>;
  /** The process's `mmap_sem` and the workload's application locks over the measured window. */
  locks: Record<string, LockStats>;
}

function modeMetrics(s: CycleStack, mode: number): ModeMetrics {
  return {
    ipc: s.ipc(mode),
    l3_mpki: s.mpki(mode, 'l3_miss'),
    l2_mpki: s.mpki(mode, 'l2_miss'),
    l1d_mpki: s.mpki(mode, 'l1d_miss'),
    l1i_mpki: s.mpki(mode, 'l1i_miss'),
    tlb_mpki: s.mpki(mode, 'tlb_miss'),
    tlb_walk_mpki: s.mpki(mode, 'tlb_walk'),
    branch_mpki: s.mpki(mode, 'branch_miss'),
    instructions: s.event(mode, 'instructions'),
  };
}

/** How a point's reported window was found, as meta.json's `window` gives it (`windowDetails`). */
export interface WindowDetails {
  warmupRequests: number;
  measuredRequests: number;
  windows: number;
  /** Times a window was lengthened because its drift was unclear (`driftUnclear`; 0 when absent). */
  driftLengthenings?: number;
  /** Times a steady window was lengthened because its interval was over 3 % (0 when absent). */
  intervalLengthenings?: number;
  driftPct: number | null;
  driftHalfWidthPct: number | null;
  steady: boolean | null;
}

export function windowDetails(r: ServerResult): WindowDetails {
  return { warmupRequests: r.warmupRequests, measuredRequests: r.measuredRequests, windows: r.windows, driftLengthenings: r.driftLengthenings, intervalLengthenings: r.intervalLengthenings, driftPct: r.windowDriftPct, driftHalfWidthPct: r.windowDriftHalfWidthPct, steady: r.steady };
}

/** Runs one point: builds the machine and the server, drives it with the clients, measures. */
export function runServer(config: RunConfig, workload: ServerWorkload, opts: ServerRunOptions): ServerResult {
  const cfg = structuredClone(config);
  cfg.hw.cores = opts.cores;
  const catalog = opts.syscalls ?? SYSCALLS;
  const k = new Kernel({ config: cfg, seed: opts.seed, syscalls: workload.syscalls ? { ...catalog, ...workload.syscalls } : catalog });
  const rx = k.syscallSpec('net-rx');
  const loop = new ClosedLoop(k, {
    clients: opts.concurrency,
    roundTrips: workload.roundTrips,
    delayCycles: workload.clientDelayUs * 1000 * cfg.hw.ghz,
    connections: workload.connections,
    rx: { handler: k.runner(rx.footprint), instructions: rx.instructions },
    warmup: opts.warmup,
    measured: opts.measured,
    batches: opts.batches ?? Math.min(10, Math.max(2, Math.floor(opts.measured / 2))),
    maxWindows: opts.maxWindows ?? 1,
    driftLimitPct: opts.driftLimitPct,
    startSpreadCycles: (opts.concurrency * workload.serviceEstimateUs * 1000 * cfg.hw.ghz) / opts.cores,
    rng: createRandom((opts.seed + 0x9e3779b9) >>> 0),
  });
  const proc: Process = k.createProcess(workload.id, workload.footprint);
  let runtime: FlexscThreads | null = null;
  const threads: NptlThread[] = [];
  const spawn = (name: string, program: Program) => {
    if (opts.mechanism === 'sync') {
      const t = new NptlThread(k, name, proc, program, threads.length % opts.cores);
      threads.push(t);
      k.start(t);
    } else {
      runtime ??= new FlexscThreads(k, proc);
      runtime.spawn(name, program);
    }
  };
  workload.start({ k, loop, mechanism: opts.mechanism, concurrency: opts.concurrency, spawn });
  loop.begin();
  k.run();
  // Conservation checks: a run that breaks one fails loudly instead of giving a row.
  k.checkCycleStacks();
  if (runtime !== null) (runtime as FlexscThreads).fx.check();
  if (process.env.FLEXSC_DEBUG && runtime !== null) {
    const c = (runtime as FlexscThreads).fx.counts;
    const carriers = (runtime as FlexscThreads).carriers;
    process.stderr.write(`flexsc: issued ${c.issued} activations ${c.activations} (${(c.issued / c.activations).toFixed(1)} per activation) blocked ${c.blockedCalls} remote ${c.remoteIssues} byCore ${c.issuedByCore}; waits ${carriers.map((x) => x.waits)} sleeps ${carriers.map((x) => x.sleeps)} switches ${carriers.map((x) => x.userSwitches)} kicks ${carriers.map((x) => x.kicksSent)}\n`);
  }
  const { perCycle, ci95Pct } = loop.throughput();
  const { total, perCore } = loop.window();
  const measured = loop.measuredRequests;
  const all = total.total();
  const cyclesPerMs = cfg.hw.ghz * 1e6;
  const perRequest: Record<string, number> = {};
  for (const [key, v] of Object.entries(total.toRecord())) perRequest[key] = v / measured;
  return {
    throughputRps: perCycle * cfg.hw.ghz * 1e9,
    throughputCi95Pct: ci95Pct,
    latencyMeanMs: loop.latency.mean / cyclesPerMs,
    latencyP99Ms: loop.latency.percentile(99) / cyclesPerMs,
    user: modeMetrics(total, USER),
    kernel: modeMetrics(total, KERNEL),
    userPct: (100 * total.modeCycles(USER)) / all,
    kernelPct: (100 * total.modeCycles(KERNEL)) / all,
    idlePct: (100 * total.idle) / all,
    stackPerRequest: perRequest,
    syscallsPerRequest: Object.entries(loop.callsPerRequest()).reduce((n, [name, v]) => (name === 'page-fault' ? n : n + v), 0),
    userInstructionsPerRequest: total.event(USER, 'instructions') / measured,
    kernelInstructionsPerRequest: total.event(KERNEL, 'instructions') / measured,
    kernelPctByCore: perCore.map((s) => (100 * s.modeCycles(KERNEL)) / s.total()),
    maxBacklog: loop.maxBacklog,
    warmupRequests: loop.warmupDone,
    measuredRequests: loop.measuredRequests,
    windows: loop.windows,
    driftLengthenings: loop.driftLengthenings,
    intervalLengthenings: loop.intervalLengthenings,
    windowDriftPct: loop.trend === null ? null : loop.trend.driftPct,
    windowDriftHalfWidthPct: loop.trend === null ? null : loop.trend.halfWidthPct,
    steady: loop.steady,
    callsPerRequest: loop.callsPerRequest(),
    locks: loop.lockStats(),
    simulatedInstructions: k.cpus.reduce((n, c) => n + c.core.stack.event(USER, 'instructions') + c.core.stack.event(KERNEL, 'instructions'), 0),
  };
}
