/**
 * The paper's Section 5 server experiments (Figs. 11–16, Tables 4–5, BIND) and the
 * pollution ablation. Every point is a closed-loop server run (`src/workloads/server/`):
 * synchronous (NPTL) rows are calibrated on the paper's sync data; FlexSC rows are the
 * model's predictions — nothing was tuned toward them.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Experiment, Point, PointContext, PointDetails } from '../src/experiment.js';
import { CATEGORIES } from '../src/hw/cycle-stack.js';
import type { Row } from '../src/report/csv.js';
import { barChartSpec, facetLineChartSpec } from '../src/report/plot.js';
import { loadReference } from '../src/report/reference.js';
import { runReplicated, serverPointOf, type ServerPoint, type WorkloadId } from '../src/workloads/server/points.js';
import { DRIFT_LIMIT_PCT, PRECISION_TARGET_PCT, SLOW_DRIFT_FLOOR_PCT, slowDrift, type LockStats } from '../src/workloads/server/closed-loop.js';
import { windowDetails, type Mechanism, type ServerResult, type WindowDetails } from '../src/workloads/server/server.js';

const MECHANISMS: Mechanism[] = ['sync', 'flexsc'];
const CORES = [1, 2, 4];
const APACHE_CONCURRENCY = [1, 16, 32, 64, 128, 256, 512, 768, 1024];
const MYSQL_CONCURRENCY = [1, 16, 32, 64, 128, 256];

function serverPoint(workload: WorkloadId, point: Point): ServerPoint {
  return serverPointOf(workload, point);
}

/**
 * Runs a point (`ctx.replications` times, averaged, when `--replications` asks) and keeps
 * its evidence in meta.json.
 */
function simulate(ctx: PointContext, p: ServerPoint): ServerResult {
  // The same configuration and seed in another experiment of this run: computed once (memo.ts).
  const key = { simulation: 'server', config: ctx.config, point: p, seed: ctx.seed, quick: ctx.quick, replications: ctx.replications ?? 1 };
  let run = ctx.memo?.get(key) as ReturnType<typeof runReplicated> | undefined;
  if (run === undefined) {
    run = runReplicated(ctx.config, p, ctx.seed, ctx.quick, ctx.replications ?? 1);
    ctx.memo?.put(key, run);
  }
  const { result, summaries } = run;
  record(ctx, result);
  if (summaries !== undefined) ctx.record?.('replications', summaries);
  return result;
}

/** The cycle stack per request (cycles), kept in meta.json as the evidence behind a row. */
function record(ctx: PointContext, r: ServerResult): void {
  ctx.record?.('cyclesPerRequest', r.stackPerRequest);
  ctx.record?.('kernelPctByCore', r.kernelPctByCore);
  ctx.record?.('syscallsPerRequest', r.syscallsPerRequest);
  ctx.record?.('locks', r.locks);
  ctx.record?.('window', windowDetails(r));
}

/**
 * How the points' measurement windows were found: how many needed more warm-up (a window
 * that drifted) or a longer window (a wide interval), and which are reported still
 * drifting or with an interval over 3 % because the run's chunks ran out (`MAX_WINDOWS`).
 */
function windowLines(details: readonly PointDetails[], where: (p: Point) => string, rows: readonly Row[] = []): string[] {
  const ws = details.map((d) => ({ point: d.point, w: d.window as WindowDetails | undefined })).filter((x) => x.w !== undefined);
  if (ws.length === 0) return [];
  const restarted = ws.filter((x) => x.w!.windows > 1);
  const out = [
    `Measurement windows: ${restarted.length} of ${ws.length} points drifted after their warm-up and measured again` +
      (restarted.length > 0 ? ` (${restarted.map((x) => `${where(x.point)}: ${x.w!.warmupRequests} requests of warm-up`).join('; ')})` : '') +
      '.',
  ];
  // A run lengthens a window whose drift is unclear (to tell a slow transient from noise) or
  // whose interval is wide; the first kind may then have restarted.
  const slowTested = ws.filter((x) => (x.w!.driftLengthenings ?? 0) > 0);
  if (slowTested.length > 0) {
    out.push(
      `Measured longer because a window's drift was unclear (a significant trend of ${SLOW_DRIFT_FLOOR_PCT}–${DRIFT_LIMIT_PCT} %, or one past ${DRIFT_LIMIT_PCT} % within the window's noise): ${slowTested.map((x) => `${where(x.point)} (${x.w!.driftLengthenings} time${x.w!.driftLengthenings === 1 ? '' : 's'}; reported ${x.w!.measuredRequests} requests after ${x.w!.warmupRequests})`).join('; ')}.`,
    );
  }
  const lengthened = ws.filter((x) => (x.w!.intervalLengthenings ?? 0) > 0);
  if (lengthened.length > 0) out.push(`Lengthened for a ${PRECISION_TARGET_PCT} % interval: ${lengthened.map((x) => `${where(x.point)} (${x.w!.measuredRequests} requests)`).join('; ')}.`);
  const slow = ws.filter((x) => x.w!.steady === true && x.w!.driftPct !== null && x.w!.driftHalfWidthPct != null && slowDrift({ driftPct: x.w!.driftPct, halfWidthPct: x.w!.driftHalfWidthPct }));
  if (slow.length > 0) {
    out.push(
      `Still drifting slowly when the run stopped (a significant trend of ${SLOW_DRIFT_FLOOR_PCT}–${DRIFT_LIMIT_PCT} % across the reported window: a transient slower than the run, or noise): ${slow.map((x) => `${where(x.point)} (${x.w!.driftPct!.toFixed(1)} ± ${x.w!.driftHalfWidthPct!.toFixed(1)} %)`).join('; ')}.`,
    );
  }
  const unsettled = ws.filter((x) => x.w!.steady === false);
  if (unsettled.length > 0) out.push(`Still drifting when the run stopped (read these rows with care): ${unsettled.map((x) => `${where(x.point)} (${x.w!.driftPct!.toFixed(1)} %)`).join('; ')}.`);
  const wide = rows.filter((r) => Number(r.throughput_ci95_pct) > PRECISION_TARGET_PCT);
  if (wide.length > 0) out.push(`Interval over ${PRECISION_TARGET_PCT} %: ${wide.map((r) => `${where(r as Point)} (${Number(r.throughput_ci95_pct).toFixed(1)} %)`).join('; ')}.`);
  return out;
}

const coresLabel = (p: Point) => `${p.cores} core${Number(p.cores) === 1 ? '' : 's'}`;

/**
 * One line per point and lock that was taken: how much of the window it was held, how many
 * acquisitions waited and how many threads queued for it on average (`ServerResult.locks`).
 */
function lockLines(details: readonly PointDetails[]): string[] {
  const out: string[] = [];
  for (const d of details) {
    const locks = d.locks as Record<string, LockStats> | undefined;
    if (locks === undefined) continue;
    const where = [d.point.workload, `${d.point.cores} core${Number(d.point.cores) === 1 ? '' : 's'}`, d.point.concurrency !== undefined ? `${d.point.concurrency} clients` : undefined, d.point.mechanism].filter((x) => x !== undefined).join(', ');
    for (const [name, l] of Object.entries(locks)) {
      if (l.acquisitionsPerRequest === 0) continue;
      const held = l.kind === 'semaphore' ? '' : `held ${l.heldPct.toFixed(1)} % of the window; `;
      out.push(`- ${where}: ${l.kind} \`${name}\` ${held}${l.contendedPct.toFixed(0)} % of its ${l.acquisitionsPerRequest.toFixed(1)} acquisitions per request waited, ${l.meanWaiters.toFixed(1)} threads ${l.kind === 'spin-mutex' ? 'waiting (spinning or asleep)' : 'queued'} on average`);
    }
  }
  return out;
}

/** The throughput figure whose runs a workload's other experiments report. */
const THROUGHPUT_FIGURE = { apache: 'fig11', mysql: 'fig14' } as const;

/**
 * The seed of a server configuration (`Experiment.seedKey`): that of the throughput
 * figure's point with the same cores, concurrency and mechanism (Fig. 11 for Apache-like,
 * Fig. 14 for MySQL-like), in every experiment that runs it — so Figs. 12 and 13/15,
 * Tables 4/5 and the ablation report the very runs of Figs. 11/14 (and `reproduce` computes
 * each once). The ablation's pollution-off run shares the seed of its pollution-on twin:
 * the two differ by the pollution alone, not by their random streams.
 */
function configurationSeedKey(workload: 'apache' | 'mysql', point: Point): { experiment: string; point: Point } {
  return {
    experiment: THROUGHPUT_FIGURE[workload],
    point: { cores: Number(point.cores), concurrency: Number(point.concurrency), mechanism: String(point.mechanism) },
  };
}

/** The summary's note that an experiment reports another's runs (configurationSeedKey). */
function sameRuns(which: string): string {
  return `The same simulations as ${which}: a server configuration has one seed, whichever experiment reports it.`;
}

const grid = (cores: number[], conc: number[]): Point[] => cores.flatMap((c) => conc.flatMap((n) => MECHANISMS.map((m) => ({ cores: c, concurrency: n, mechanism: m }))));

const THROUGHPUT_COLUMNS = ['cores', 'concurrency', 'mechanism', 'throughput_rps', 'throughput_ci95_pct', 'latency_mean_ms', 'latency_p99_ms', 'user_ipc', 'kernel_ipc'] as const;
const THROUGHPUT_PRECISION = { throughput_rps: 0, throughput_ci95_pct: 2, latency_mean_ms: 3, latency_p99_ms: 3, user_ipc: 3, kernel_ipc: 3 };

function throughputRow(point: Point, r: ServerResult): Row {
  return {
    cores: Number(point.cores),
    concurrency: Number(point.concurrency),
    mechanism: String(point.mechanism),
    throughput_rps: r.throughputRps,
    throughput_ci95_pct: r.throughputCi95Pct,
    latency_mean_ms: r.latencyMeanMs,
    latency_p99_ms: r.latencyP99Ms,
    user_ipc: r.user.ipc,
    kernel_ipc: r.kernel.ipc,
  };
}

/** Predicted flexsc/sync throughput ratios, per cores, at each concurrency. */
function ratioLines(rows: Row[], key: 'throughput_rps' | 'latency_mean_ms'): string[] {
  const out: string[] = [];
  for (const cores of [...new Set(rows.map((r) => r.cores))]) {
    const parts: string[] = [];
    for (const r of rows.filter((x) => x.cores === cores && x.mechanism === 'flexsc')) {
      const s = rows.find((x) => x.cores === cores && x.concurrency === r.concurrency && x.mechanism === 'sync');
      if (s) parts.push(`${r.concurrency}: ${(Number(r[key]) / Number(s[key])).toFixed(2)}`);
    }
    out.push(`- ${cores} core${cores === 1 ? '' : 's'}: ${parts.join(', ')}`);
  }
  return out;
}

function throughputFigure(id: 'fig11' | 'fig14', workload: 'apache' | 'mysql'): Experiment {
  const refFile = workload === 'apache' ? 'fig11-apache-sync-throughput.csv' : 'fig14-mysql-sync-throughput.csv';
  const conc = workload === 'apache' ? APACHE_CONCURRENCY : MYSQL_CONCURRENCY;
  const label = workload === 'apache' ? 'Apache' : 'MySQL';
  return {
    id,
    replicable: true,
    seedKey: (point: Point) => configurationSeedKey(workload, point),
    title: `${label}-like throughput vs concurrency, sync and FlexSC, 1/2/4 cores`,
    reproduces: id === 'fig11' ? 'Figure 11' : 'Figure 14',
    description: `${label}-like server under a closed-loop benchmark: throughput (with its 95 % interval), latency and IPC per mode, for each core count and concurrency, synchronous and exception-less.`,
    grid(quick: boolean): Point[] {
      return quick ? (workload === 'apache' ? grid([1, 4], [64]) : grid([1], [16])) : grid(CORES, conc);
    },
    columns: THROUGHPUT_COLUMNS,
    precision: THROUGHPUT_PRECISION,
    run(point: Point, ctx: PointContext): Row[] {
      const r = simulate(ctx, serverPoint(workload, point));
      return [throughputRow(point, r)];
    },
    plot(rows: Row[]): TopLevelSpec {
      const paper = loadReference(refFile).map((r) => ({ cores: r.cores, concurrency: r.concurrency, mechanism: 'sync', throughput_rps: r.sync_requests_per_s }));
      return facetLineChartSpec({
        title: `${label}-like throughput`,
        subtitle: 'solid: model (sync calibrated, flexsc predicted); dashed: paper sync baseline',
        data: rows.map((r) => ({ ...r })),
        reference: { data: paper },
        column: { field: 'cores', title: 'cores' },
        x: { field: 'concurrency', title: 'concurrent clients', scale: 'log' },
        y: { field: 'throughput_rps', title: workload === 'apache' ? 'requests/s' : 'transactions/s' },
        color: { field: 'mechanism', title: 'mechanism' },
      });
    },
    summarize(rows: Row[], details: readonly PointDetails[]): string[] {
      const paper = new Map(loadReference(refFile).map((r) => [`${r.cores}/${r.concurrency}`, Number(r.sync_requests_per_s)]));
      // Each model value with its 95 % interval: a reader comparing sync with the paper, or
      // FlexSC with sync, needs to know which differences the run can resolve.
      const withCi = (r: Row) => `${Number(r.throughput_rps).toFixed(0)} ± ${Number(r.throughput_ci95_pct).toFixed(1)} %`;
      const lines = ['| cores | concurrency | sync ± 95 % interval (paper) | flexsc ± 95 % interval (predicted) |', '|---|---|---|---|'];
      for (const s of rows.filter((r) => r.mechanism === 'sync')) {
        const f = rows.find((r) => r.mechanism === 'flexsc' && r.cores === s.cores && r.concurrency === s.concurrency);
        lines.push(`| ${s.cores} | ${s.concurrency} | ${withCi(s)} (${paper.get(`${s.cores}/${s.concurrency}`) ?? '–'}) | ${f ? withCi(f) : '–'} |`);
      }
      const where = (p: Point) => `${coresLabel(p)}, ${p.concurrency} clients, ${p.mechanism}`;
      const windows = windowLines(details, where, rows);
      if (windows.length > 0) lines.push('', ...windows);
      lines.push('', 'Predicted FlexSC/sync throughput ratio by concurrency:', ...ratioLines(rows, 'throughput_rps'));
      return lines;
    },
  };
}

export const fig11 = throughputFigure('fig11', 'apache');
export const fig14 = throughputFigure('fig14', 'mysql');

/** The concurrency of Fig. 12's breakdown and of Tables 4–5 (Apache at 512, as Table 4; MySQL at 256). */
const BREAKDOWN_CONCURRENCY: Record<'apache' | 'mysql', number> = { apache: 512, mysql: 256 };

export const fig12: Experiment = {
  id: 'fig12',
  replicable: true,
  seedKey: (point: Point) => configurationSeedKey(point.workload as 'apache' | 'mysql', point),
  title: 'Execution time breakdown (user, kernel, idle) on 4 cores, sync and FlexSC',
  reproduces: 'Figure 12 (a: Apache, b: MySQL)',
  description: 'Share of all cores\' cycles spent in user mode, in kernel mode and idle, for the Apache-like (512 clients) and MySQL-like (256 clients) servers on 4 cores.',
  grid(quick: boolean): Point[] {
    return (quick ? (['apache'] as const) : (['apache', 'mysql'] as const)).flatMap((w) => MECHANISMS.map((m) => ({ workload: w, cores: 4, concurrency: BREAKDOWN_CONCURRENCY[w], mechanism: m })));
  },
  columns: ['workload', 'cores', 'mechanism', 'user_pct', 'kernel_pct', 'idle_pct'],
  precision: { user_pct: 1, kernel_pct: 1, idle_pct: 1 },
  run(point: Point, ctx: PointContext): Row[] {
    const w = point.workload as 'apache' | 'mysql';
    const r = simulate(ctx, serverPoint(w, point));
    return [{ workload: w, cores: 4, mechanism: String(point.mechanism), user_pct: r.userPct, kernel_pct: r.kernelPct, idle_pct: r.idlePct }];
  },
  plot(rows: Row[]): TopLevelSpec {
    const long = rows.flatMap((r) => (['user', 'kernel', 'idle'] as const).map((part) => ({ workload: r.workload, mechanism: r.mechanism, part, pct: r[`${part}_pct`] })));
    const misc = new Map(loadReference('sync-baselines-misc.csv').map((r) => [String(r.quantity), Number(r.value)]));
    const paper = (['apache', 'mysql'] as const).flatMap((w) => (['user', 'kernel', 'idle'] as const).map((part) => ({ workload: w, mechanism: 'sync', part, pct: misc.get(`${w}_4core_sync_time_${part}`) })));
    return barChartSpec({
      title: 'Time breakdown on 4 cores',
      subtitle: 'bars: model; black ticks: paper sync',
      data: long,
      reference: paper,
      x: { field: 'part', title: '' },
      group: { field: 'mechanism', title: 'mechanism' },
      y: { field: 'pct', title: '% of all cores\' cycles' },
      column: { field: 'workload', title: 'workload' },
    });
  },
  summarize(rows: Row[], details: readonly PointDetails[]): string[] {
    const misc = new Map(loadReference('sync-baselines-misc.csv').map((r) => [String(r.quantity), Number(r.value)]));
    const lines = ['| workload | mechanism | user % | kernel % | idle % | paper sync user/kernel/idle |', '|---|---|---|---|---|---|'];
    for (const r of rows) {
      const k = `${r.workload}_4core_sync_time_`;
      const p = r.mechanism === 'sync' ? `${misc.get(k + 'user')}/${misc.get(k + 'kernel')}/${misc.get(k + 'idle')}` : '–';
      lines.push(`| ${r.workload} | ${r.mechanism} | ${Number(r.user_pct).toFixed(1)} | ${Number(r.kernel_pct).toFixed(1)} | ${Number(r.idle_pct).toFixed(1)} | ${p} |`);
    }
    const locks = lockLines(details);
    if (locks.length > 0) lines.push('', 'Locks over the measured window (is a lock why cores idle?):', '', ...locks);
    lines.push('', sameRuns(`${THROUGHPUT_FIGURE.apache}'s 4-core, ${BREAKDOWN_CONCURRENCY.apache}-client rows (Apache) and ${THROUGHPUT_FIGURE.mysql}'s 4-core, ${BREAKDOWN_CONCURRENCY.mysql}-client rows (MySQL)`));
    return lines;
  },
};

/** Figs. 13 and 15: mean latency at 256 concurrent clients. */
const LATENCY_CONCURRENCY = 256;

function latencyFigure(id: 'fig13' | 'fig15', workload: 'apache' | 'mysql'): Experiment {
  const label = workload === 'apache' ? 'Apache' : 'MySQL';
  return {
    id,
    replicable: true,
    seedKey: (point: Point) => configurationSeedKey(workload, point),
    title: `${label}-like mean latency at 256 concurrent clients, sync and FlexSC`,
    reproduces: id === 'fig13' ? 'Figure 13' : 'Figure 15',
    description: `Mean request latency seen by the clients of the ${label}-like server at 256 concurrent clients, on 1, 2 and 4 cores.`,
    grid(quick: boolean): Point[] {
      return (quick ? [1] : CORES).flatMap((c) => MECHANISMS.map((m) => ({ cores: c, concurrency: LATENCY_CONCURRENCY, mechanism: m })));
    },
    columns: ['cores', 'mechanism', 'latency_mean_ms'],
    precision: { latency_mean_ms: 3 },
    run(point: Point, ctx: PointContext): Row[] {
      const r = simulate(ctx, serverPoint(workload, point));
      return [{ cores: Number(point.cores), mechanism: String(point.mechanism), latency_mean_ms: r.latencyMeanMs }];
    },
    plot(rows: Row[]): TopLevelSpec {
      const misc = loadReference('sync-baselines-misc.csv');
      const paper = CORES.map((c) => ({ cores: c, mechanism: 'sync', latency_mean_ms: misc.find((r) => r.quantity === `${workload}_sync_latency_256_${c}core`)?.value }));
      return barChartSpec({
        title: `${label}-like latency at 256 clients`,
        subtitle: 'bars: model; black ticks: paper sync',
        data: rows,
        reference: paper,
        x: { field: 'cores', title: 'cores' },
        group: { field: 'mechanism', title: 'mechanism' },
        y: { field: 'latency_mean_ms', title: 'mean latency (ms)' },
      });
    },
    summarize(rows: Row[]): string[] {
      const misc = loadReference('sync-baselines-misc.csv');
      const lines = rows.map((r) => {
        const p = misc.find((x) => x.quantity === `${workload}_sync_latency_256_${r.cores}core`)?.value;
        return `- ${r.cores} core${r.cores === 1 ? '' : 's'}, ${r.mechanism}: ${Number(r.latency_mean_ms).toFixed(1)} ms${r.mechanism === 'sync' && p !== undefined ? ` (paper ${p})` : ''}`;
      });
      return [...lines, '', sameRuns(`${THROUGHPUT_FIGURE[workload]}'s ${LATENCY_CONCURRENCY}-client rows`)];
    },
  };
}

export const fig13 = latencyFigure('fig13', 'apache');
export const fig15 = latencyFigure('fig15', 'mysql');

const MICRO_COLUMNS = ['cores', 'mechanism', 'exec_mode', 'ipc', 'l3_mpki', 'l2_mpki', 'l1d_mpki', 'l1i_mpki', 'tlb_mpki', 'branch_mpki'] as const;
const MICRO_PRECISION = { ipc: 3, l3_mpki: 2, l2_mpki: 2, l1d_mpki: 2, l1i_mpki: 2, tlb_mpki: 2, branch_mpki: 2 };

function microTable(id: 'table4' | 'table5', workload: 'apache' | 'mysql'): Experiment {
  const label = workload === 'apache' ? 'Apache' : 'MySQL';
  const reference = () => loadReference('table4-table5-sync-microarchitecture.csv').filter((r) => r.workload === workload);
  return {
    id,
    replicable: true,
    seedKey: (point: Point) => configurationSeedKey(workload, point),
    title: `${label}-like micro-architectural breakdown (IPC and misses per kilo-instruction), sync and FlexSC`,
    reproduces: id === 'table4' ? 'Table 4' : 'Table 5',
    description: `IPC and misses per 1000 instructions of the L3, L2, L1 d-cache, L1 i-cache, TLB and branch predictor, per execution mode, for the ${label}-like server (${BREAKDOWN_CONCURRENCY[workload]} clients) on 1 and 4 cores.`,
    grid(quick: boolean): Point[] {
      return (quick ? [1] : [1, 4]).flatMap((c) => MECHANISMS.map((m) => ({ cores: c, concurrency: BREAKDOWN_CONCURRENCY[workload], mechanism: m })));
    },
    columns: MICRO_COLUMNS,
    precision: MICRO_PRECISION,
    run(point: Point, ctx: PointContext): Row[] {
      const r = simulate(ctx, serverPoint(workload, point));
      return (['user', 'kernel'] as const).map((mode) => ({
        cores: Number(point.cores),
        mechanism: String(point.mechanism),
        exec_mode: mode,
        ipc: r[mode].ipc,
        l3_mpki: r[mode].l3_mpki,
        l2_mpki: r[mode].l2_mpki,
        l1d_mpki: r[mode].l1d_mpki,
        l1i_mpki: r[mode].l1i_mpki,
        tlb_mpki: r[mode].tlb_mpki,
        branch_mpki: r[mode].branch_mpki,
      }));
    },
    plot(rows: Row[]): TopLevelSpec {
      const metrics = ['l3_mpki', 'l2_mpki', 'l1d_mpki', 'l1i_mpki', 'tlb_mpki', 'branch_mpki'] as const;
      const long = rows.flatMap((r) => metrics.map((m) => ({ panel: `${r.cores} core${r.cores === 1 ? '' : 's'}, ${r.exec_mode}`, metric: m.replace('_mpki', ''), mechanism: r.mechanism, mpki: r[m] })));
      const paper = reference().flatMap((r) =>
        metrics.map((m) => ({ panel: `${r.cores} core${r.cores === 1 ? '' : 's'}, ${r.mode}`, metric: m.replace('_mpki', ''), mechanism: 'sync', mpki: r[m === 'l1d_mpki' ? 'dcache_mpki' : m === 'l1i_mpki' ? 'icache_mpki' : m] })),
      );
      return barChartSpec({
        title: `${label}-like misses per kilo-instruction`,
        subtitle: 'bars: model; black ticks: paper sync',
        data: long,
        reference: paper,
        x: { field: 'metric', title: '' },
        group: { field: 'mechanism', title: 'mechanism' },
        y: { field: 'mpki', title: 'misses per 1000 instructions' },
        column: { field: 'panel', title: '' },
      });
    },
    summarize(rows: Row[]): string[] {
      const ref = reference();
      const lines = ['| cores | mode | mechanism | IPC (paper sync) | L3 | L2 | L1d | L1i | TLB | branch |', '|---|---|---|---|---|---|---|---|---|---|'];
      for (const r of rows) {
        const p = ref.find((x) => Number(x.cores) === r.cores && x.mode === r.exec_mode);
        const cell = (m: string, pm: string) => `${Number(r[m]).toFixed(1)}${r.mechanism === 'sync' && p ? ` (${p[pm]})` : ''}`;
        lines.push(
          `| ${r.cores} | ${r.exec_mode} | ${r.mechanism} | ${Number(r.ipc).toFixed(2)}${r.mechanism === 'sync' && p ? ` (${p.ipc})` : ''} | ${cell('l3_mpki', 'l3_mpki')} | ${cell('l2_mpki', 'l2_mpki')} | ${cell('l1d_mpki', 'dcache_mpki')} | ${cell('l1i_mpki', 'icache_mpki')} | ${cell('tlb_mpki', 'tlb_mpki')} | ${cell('branch_mpki', 'branch_mpki')} |`,
        );
      }
      return [...lines, '', sameRuns(`${THROUGHPUT_FIGURE[workload]}'s ${BREAKDOWN_CONCURRENCY[workload]}-client rows`)];
    },
  };
}

export const table4 = microTable('table4', 'apache');
export const table5 = microTable('table5', 'mysql');

export const fig16: Experiment = {
  id: 'fig16',
  replicable: true,
  title: 'Apache-like FlexSC throughput vs syscall entries per core (2048 concurrent clients per core)',
  reproduces: 'Figure 16',
  description: 'Apache-like server on FlexSC-Threads with 64 to 512 syscall entries (1 to 8 pages) per core, 2048 concurrent clients per core, on 1 and 4 cores.',
  grid(quick: boolean): Point[] {
    return (quick ? [1] : [1, 4]).flatMap((c) => (quick ? [64, 512] : [64, 128, 256, 512]).map((e) => ({ cores: c, entries_per_core: e })));
  },
  columns: ['cores', 'entries_per_core', 'throughput_rps'],
  precision: { throughput_rps: 0 },
  run(point: Point, ctx: PointContext): Row[] {
    const r = simulate(ctx, fig16Point(point));
    return [{ cores: Number(point.cores), entries_per_core: Number(point.entries_per_core), throughput_rps: r.throughputRps }];
  },
  plot(rows: Row[]): TopLevelSpec {
    return facetLineChartSpec({
      title: 'Apache-like FlexSC throughput vs syscall entries per core',
      subtitle: '2048 concurrent clients per core (prediction)',
      data: rows.map((r) => ({ ...r, mechanism: 'flexsc' })),
      column: { field: 'cores', title: 'cores' },
      x: { field: 'entries_per_core', title: 'syscall entries per core', scale: 'log' },
      y: { field: 'throughput_rps', title: 'requests/s' },
      color: { field: 'mechanism', title: 'mechanism' },
    });
  },
  summarize(rows: Row[], details: readonly PointDetails[]): string[] {
    const lines = rows.map((r) => `- ${coresLabel(r as Point)}, ${r.entries_per_core} entries: ${Number(r.throughput_rps).toFixed(0)} requests/s`);
    const windows = windowLines(details, (p) => `${coresLabel(p)}, ${p.entries_per_core} entries`);
    return windows.length > 0 ? [...lines, '', ...windows] : lines;
  },
};

/** Fig. 16's server point: Apache-like FlexSC, 2,048 clients per core, the entries as pages. */
function fig16Point(point: Point): ServerPoint {
  const cores = Number(point.cores);
  return { workload: 'apache', cores, concurrency: 2048 * cores, mechanism: 'flexsc', pagesPerCore: Number(point.entries_per_core) / 64 };
}

export const bind: Experiment = {
  id: 'bind',
  replicable: true,
  title: 'BIND-like DNS server throughput and latency, sync and FlexSC',
  reproduces: 'Section 5 (BIND: the paper reports only a headline range, no figure)',
  description: 'BIND-like authoritative DNS server (one named thread per core) under dnsperf-like clients: throughput and mean latency per core count and concurrency. Not calibrated on BIND data.',
  grid(quick: boolean): Point[] {
    return quick ? grid([1], [16]) : grid(CORES, [16, 64, 256]);
  },
  columns: ['cores', 'concurrency', 'mechanism', 'throughput_rps', 'latency_mean_ms'],
  precision: { throughput_rps: 0, latency_mean_ms: 3 },
  run(point: Point, ctx: PointContext): Row[] {
    const r = simulate(ctx, serverPoint('bind', point));
    return [{ cores: Number(point.cores), concurrency: Number(point.concurrency), mechanism: String(point.mechanism), throughput_rps: r.throughputRps, latency_mean_ms: r.latencyMeanMs }];
  },
  plot(rows: Row[]): TopLevelSpec {
    return facetLineChartSpec({
      title: 'BIND-like throughput',
      subtitle: 'model only (the paper gives a headline range)',
      data: rows.map((r) => ({ ...r })),
      column: { field: 'cores', title: 'cores' },
      x: { field: 'concurrency', title: 'concurrent clients', scale: 'log' },
      y: { field: 'throughput_rps', title: 'queries/s' },
      color: { field: 'mechanism', title: 'mechanism' },
    });
  },
  summarize(rows: Row[]): string[] {
    return ['Predicted FlexSC/sync throughput ratio by concurrency:', ...ratioLines(rows, 'throughput_rps')];
  },
};

/** Cycle-stack columns of the ablation, per request: user_base, …, kernel_lock_wait, idle. */
const STACK_COLUMNS = [...(['user', 'kernel'] as const).flatMap((m) => CATEGORIES.map((c) => `${m}_${c}`)), 'idle'];

export const ablation: Experiment = {
  id: 'ablation',
  replicable: true,
  seedKey: (point: Point) => configurationSeedKey(point.workload as 'apache' | 'mysql', point),
  title: 'Pollution ablation: the same runs with cross-mode eviction switched off, with cycle stacks',
  reproduces: 'DESIGN.md §6b (what each FlexSC gain is made of), for fig11/fig14/table4/table5 points',
  description: 'Apache-like (512 clients) and MySQL-like (256 clients) on 1 and 4 cores, sync and FlexSC, with pollution on (the normal model) and off (a fill never evicts the other mode\'s lines): throughput, IPC per mode and the cycle stack per request.',
  grid(quick: boolean): Point[] {
    const ws = quick ? (['apache'] as const) : (['apache', 'mysql'] as const);
    return ws.flatMap((w) => (quick ? [1] : [1, 4]).flatMap((c) => MECHANISMS.flatMap((m) => ['on', 'off'].map((p) => ({ workload: w, cores: c, concurrency: BREAKDOWN_CONCURRENCY[w], mechanism: m, pollution: p })))));
  },
  columns: ['workload', 'cores', 'concurrency', 'mechanism', 'pollution', 'throughput_rps', 'user_ipc', 'kernel_ipc', ...STACK_COLUMNS],
  precision: Object.fromEntries([['throughput_rps', 0], ['user_ipc', 3], ['kernel_ipc', 3], ...STACK_COLUMNS.map((c) => [c, 0])]),
  run(point: Point, ctx: PointContext): Row[] {
    const w = point.workload as 'apache' | 'mysql';
    const r = simulate(ctx, serverPoint(w, point));
    const row: Row = {
      workload: w,
      cores: Number(point.cores),
      concurrency: Number(point.concurrency),
      mechanism: String(point.mechanism),
      pollution: String(point.pollution),
      throughput_rps: r.throughputRps,
      user_ipc: r.user.ipc,
      kernel_ipc: r.kernel.ipc,
    };
    for (const c of STACK_COLUMNS) row[c] = r.stackPerRequest[c] ?? 0;
    return [row];
  },
  plot(rows: Row[]): TopLevelSpec {
    return barChartSpec({
      title: 'Throughput with and without cross-mode pollution',
      subtitle: 'pollution off: fills never evict the other mode\'s lines',
      data: rows.map((r) => ({ ...r, config: `${r.workload} ${r.cores}c ${r.mechanism}` })),
      x: { field: 'config', title: '' },
      group: { field: 'pollution', title: 'pollution' },
      y: { field: 'throughput_rps', title: 'requests/s' },
    });
  },
  summarize(rows: Row[]): string[] {
    const lines: string[] = [];
    for (const r of rows.filter((x) => x.mechanism === 'flexsc' && x.pollution === 'on')) {
      const find = (m: string, p: string) => rows.find((x) => x.workload === r.workload && x.cores === r.cores && x.mechanism === m && x.pollution === p);
      const s = find('sync', 'on');
      const s0 = find('sync', 'off');
      const f0 = find('flexsc', 'off');
      if (!s || !s0 || !f0) continue;
      const gain = Number(r.throughput_rps) / Number(s.throughput_rps) - 1;
      const gainNoPollution = Number(f0.throughput_rps) / Number(s0.throughput_rps) - 1;
      const pct = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)} %`;
      const points = (x: number): string => `${Math.abs(100 * x).toFixed(1)} points`;
      const fromPollution = gain - gainNoPollution;
      // What is left with pollution off is the mechanism itself: fewer mode switches and
      // batching against the syscall threads' own costs (hand-offs, idle, scans).
      const share =
        fromPollution >= 0
          ? `less cross-mode pollution is worth ${points(fromPollution)} to FlexSC`
          : `less cross-mode pollution costs FlexSC ${points(fromPollution)}`;
      const rest =
        gainNoPollution >= 0
          ? `fewer mode switches and batching the other ${points(gainNoPollution)}`
          : `without pollution its own costs (syscall-thread hand-offs, idle, scans) outweigh the mode switches it saves by ${points(gainNoPollution)}`;
      lines.push(
        `- ${r.workload}, ${r.cores} core${r.cores === 1 ? '' : 's'}: FlexSC ${pct(gain)} against sync; with pollution off in both, ${pct(gainNoPollution)} — so ${share}, and ${rest}.`,
      );
    }
    return lines;
  },
};
