/**
 * One server parameter point as the experiments run it: the workload by name, the run's
 * size (warm-up and measured requests, smaller with --quick), and the pollution ablation.
 *
 * Sizes: a point measures enough requests for a tight throughput interval after a warm-up
 * that outlasts the clients' spread-out first requests (DESIGN.md §7). The warm-up is at
 * least C requests and the window about 2C or more (Apache-like: up to the paper's 1024
 * clients; Fig. 16's 2048 per core, which reports throughput only, gets a window of C), so that every client has
 * finished a request before measuring starts and about two inside the window: with fewer,
 * the window holds only the clients that happened to be served first, and its mean latency
 * and throughput disagree (Little's law, C = throughput × latency, fails). MySQL-like
 * transactions are ~5 M instructions each, so their runs measure fewer requests at low
 * concurrency (1 core, 256 clients, seed 1: a warm-up of 64 and a window of 120 gave
 * 203 tps and 358 ms where 256 / 203 tps is 1.26 s; 256 and 512 give 390 tps and 660 ms,
 * 512 and 1024 give 392 tps and 656 ms). The windows' lengths aim at the 3 % interval of
 * throughput the experiments ask for: 120 transactions gave MySQL-like intervals of
 * 1.4–4.1 % at 16–64 clients, and 2,000 requests gave the Apache-like concurrency-1 rows
 * 2.1–4.0 % (FlexSC's 3.6–4.0 %); an interval shrinks with the square root of the window, so these are about
 * twice as long.
 *
 * Apache-like points warm up 2C requests: with C, past 256 clients the window still sees the
 * second round of requests, which met a shorter accept backlog than the steady state
 * (1 core, 1,024 clients, sync, seed 1: a warm-up of 1,024 and a window of 2,048 gave
 * 82.9 ms where 1,024 / 11,094 requests/s is 92.3 ms; 2,048 and 2,048 give 92.3 ms, and
 * 3,000 and 4,000 give 92.3 ms as well). Throughput hardly moves (11,094–11,099).
 */
import { ci95Pct } from '../../report/stats.js';
import type { RunConfig } from '../../run-config.js';
import { replicationSeed } from '../../seed.js';
import { APACHE, apacheWorkload } from './apache.js';
import { bindWorkload } from './bind.js';
import { MYSQL, mysqlWorkload } from './mysql.js';
import { runServer, type Mechanism, type ServerResult, type ServerWorkload } from './server.js';

export type WorkloadId = 'apache' | 'mysql' | 'bind';

export interface ServerPoint {
  workload: WorkloadId;
  cores: number;
  concurrency: number;
  mechanism: Mechanism;
  /** Cross-mode pollution switched off (the ablation, DESIGN.md §6b). */
  noCrossPollution?: boolean;
  /** Syscall pages per core (FlexSC), when not the configuration's. */
  pagesPerCore?: number;
}

export function serverWorkload(id: WorkloadId): ServerWorkload {
  switch (id) {
    case 'apache':
      return apacheWorkload(APACHE);
    case 'mysql':
      return mysqlWorkload(MYSQL);
    case 'bind':
      return bindWorkload();
  }
}

/**
 * A point's size: warm-up requests, the first window's requests, and (when not the
 * default, `MAX_WINDOWS` in full mode, 1 with --quick) the chunks it may spend.
 */
export interface RunSize {
  warmup: number;
  measured: number;
  maxWindows?: number;
  /** The drift a window may show and pass as steady (default `DRIFT_LIMIT_PCT`). */
  driftLimitPct?: number;
}

/** Warm-up and measured requests of a point. */
export function runSize(p: ServerPoint, quick: boolean): { warmup: number; measured: number } {
  const c = p.concurrency;
  switch (p.workload) {
    case 'mysql':
      return quick ? { warmup: Math.max(2, Math.ceil(c / 64)), measured: 4 } : { warmup: Math.max(10, c), measured: Math.max(256, 2 * c) };
    case 'apache':
      // A window holds at least one request per client (Fig. 16's 8,192 clients on four
      // cores): with 4,000 its drift test could not see a transient (half-widths 3.6–8.1 %).
      return quick ? { warmup: Math.max(50, Math.ceil(c / 16)), measured: 100 } : { warmup: Math.max(400, 2 * c), measured: Math.max(4000, c) };
    case 'bind':
      return quick ? { warmup: Math.max(200, Math.ceil(c / 2)), measured: 400 } : { warmup: Math.max(1000, 2 * c), measured: 5000 };
  }
}

/**
 * Chunks of `measured` requests a full-mode point may spend on windows (restarted or
 * lengthened) before it reports its last window as it stands
 * (`ClosedLoopOptions.maxWindows`; `--quick` measures one). Sized on the slowest transient
 * measured, 4-core FlexSC Apache (seed 1, full run at commit 911270e): with 8 chunks the
 * 64- and 1,024-client points ran out unsettled (4.6 % interval; still drifting −8.4 %),
 * while with 16 they settle after 56,400 and 54,048 requests of warm-up (15 chunks of
 * 4,000 each, warm-up included: close to this budget too). A point that settles sooner
 * spends only what it needs, so raising the budget changes only rows that ran out of it.
 */
export const MAX_WINDOWS = 16;

/**
 * Runs a point: its configuration (syscall pages, the ablation) and its size (`runSize`,
 * unless `size` gives the warm-up and measured requests).
 */
export function runPoint(config: RunConfig, p: ServerPoint, seed: number, quick: boolean, size?: RunSize): ServerResult {
  const cfg = structuredClone(config);
  if (p.pagesPerCore !== undefined) cfg.os.flexsc.pagesPerCore = p.pagesPerCore;
  if (p.noCrossPollution === true) cfg.hw.crossModeEviction = false;
  return runServer(cfg, serverWorkload(p.workload), { cores: p.cores, concurrency: p.concurrency, mechanism: p.mechanism, seed, ...(size ?? runSize(p, quick)), maxWindows: size?.maxWindows ?? (quick ? 1 : MAX_WINDOWS) });
}

/**
 * A grid point of a server experiment as a `ServerPoint`: `cores`, `concurrency` and
 * `mechanism`, with `pollution: 'off'` for the ablation and `entries_per_core` (> 0) for
 * the syscall pages per core.
 */
export function serverPointOf(workload: WorkloadId, point: Record<string, string | number | boolean>): ServerPoint {
  return {
    workload,
    cores: Number(point.cores),
    concurrency: Number(point.concurrency),
    mechanism: point.mechanism as Mechanism,
    ...(point.pollution === 'off' ? { noCrossPollution: true } : {}),
    ...(point.entries_per_core !== undefined && Number(point.entries_per_core) > 0 ? { pagesPerCore: Number(point.entries_per_core) / 64 } : {}),
  };
}

/** One replication of a point, as ID.meta.json lists it. */
export interface ReplicationSummary {
  seed: number;
  throughput_rps: number;
  latency_mean_ms: number;
  idle_pct: number;
  /** Each core's kernel share of its own cycles (which cores ran the syscalls). */
  kernel_pct_by_core: number[];
}

/**
 * Runs a point `replications` times with independent seeds (`replicationSeed`: the first
 * is `seed` itself, so one replication is the plain run) and averages them
 * (`averageResults`). `summaries` is undefined for a single run.
 */
export function runReplicated(
  config: RunConfig,
  p: ServerPoint,
  seed: number,
  quick: boolean,
  replications: number,
  size?: RunSize,
): { result: ServerResult; summaries?: ReplicationSummary[] } {
  if (!Number.isInteger(replications) || replications < 1) throw new RangeError(`replications must be a whole number ≥ 1, got ${replications}`);
  const runs: ServerResult[] = [];
  for (let i = 0; i < replications; i++) runs.push(runPoint(config, p, replicationSeed(seed, i), quick, size));
  if (runs.length === 1) return { result: runs[0] };
  return {
    result: averageResults(runs),
    summaries: runs.map((r, i) => ({ seed: replicationSeed(seed, i), throughput_rps: r.throughputRps, latency_mean_ms: r.latencyMeanMs, idle_pct: r.idlePct, kernel_pct_by_core: r.kernelPctByCore })),
  };
}

/**
 * The mean of independent runs of one point: every number (nested ones too: cycle stacks,
 * per-mode metrics, lock statistics, calls per request) is averaged field by field, except
 * the throughput interval, which comes from the spread of the runs' throughputs (Student's
 * t), the backlog (the largest), and the simulated instructions (the total).
 */
export function averageResults(runs: readonly ServerResult[]): ServerResult {
  if (runs.length < 2) throw new RangeError('averaging needs at least two runs');
  const mean = meanOf(runs as readonly unknown[]) as ServerResult;
  return {
    ...mean,
    throughputCi95Pct: ci95Pct(runs.map((r) => r.throughputRps)),
    maxBacklog: Math.max(...runs.map((r) => r.maxBacklog)),
    windows: Math.max(...runs.map((r) => r.windows)),
    steady: runs.some((r) => r.steady === null) ? null : runs.every((r) => r.steady === true),
    simulatedInstructions: runs.reduce((s, r) => s + r.simulatedInstructions, 0),
  };
}

/** Field-by-field mean of values of one shape (numbers averaged, other leaves from the first; a key missing from some counts as 0 there). */
function meanOf(values: readonly unknown[]): unknown {
  const first = values[0];
  if (typeof first === 'number') return values.reduce((s: number, v) => s + (typeof v === 'number' ? v : 0), 0) / values.length;
  if (Array.isArray(first)) return first.map((_x, i) => meanOf(values.map((v) => (v as unknown[])[i] ?? 0)));
  if (first !== null && typeof first === 'object') {
    const keys = [...new Set(values.flatMap((v) => Object.keys(v as object)))];
    return Object.fromEntries(keys.map((k) => [k, meanOf(values.map((v) => (v as Record<string, unknown>)[k] ?? 0))]));
  }
  return first;
}
