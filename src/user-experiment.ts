/**
 * User experiments: a sweep of the server workloads described in a JSON file, run like a
 * built-in experiment (`flexsc-sim run my-sweep.json`). The file is validated by a zod
 * schema; an error names the file and the JSON path of the offending field and says what
 * was expected.
 *
 * ```json
 * {
 *   "id": "apache-l2",
 *   "title": "Apache-like on a bigger L2",
 *   "workload": "apache",
 *   "overrides": ["hw.l2.sizeKiB=1024"],
 *   "grid": { "cores": [1, 4], "concurrency": [64, 512], "mechanism": ["sync", "flexsc"] },
 *   "requests": { "warmup": 400, "measured": 2000 },
 *   "replications": 5
 * }
 * ```
 *
 * Grid fields: `cores`, `concurrency`, `mechanism` (required), `pollution` ("on"/"off"),
 * `entries_per_core` (multiples of 64). The machine comes from `--machine`; the file's
 * `overrides` are applied on top of the command line's `--set`s.
 *
 * `replications` (optional, 2…1000; it takes precedence over `--replications`) runs each
 * point that many times with independent seeds (`runReplicated`): every column is then
 * the mean over the replications, and the
 * throughput interval comes from the spread of the replications' throughputs (Student's t)
 * instead of batch means within one run. Batch means assume batches far apart in time are
 * independent; a server whose completions come in convoys (the Apache-like one on several
 * cores) or batches shorter than a request's latency (the MySQL-like one) break that, and
 * independent replications do not depend on it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import { FileInputError } from './errors.js';
import type { Experiment, Point, PointContext } from './experiment.js';
import { formatIssues } from './hw/machine-config.js';
import type { Row } from './report/csv.js';
import { facetLineChartSpec } from './report/plot.js';
import { applyOverride, parseOverride, RunConfigSchema, type RunConfig } from './run-config.js';
import { runReplicated, serverPointOf } from './workloads/server/points.js';
import { windowDetails } from './workloads/server/server.js';

/** The most requests a point may measure or warm up with (a run this size takes hours). */
export const MAX_REQUESTS = 1_000_000;

const nonEmpty = <T extends z.ZodType>(t: T) => z.array(t).min(1, 'expected at least one value');

export const UserExperimentSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'expected lower-case letters, digits, ".", "_" or "-" (it names the output files)'),
  title: z.string().min(1).optional(),
  workload: z.enum(['apache', 'mysql', 'bind']),
  overrides: z.array(z.string()).default([]),
  grid: z.strictObject({
    cores: nonEmpty(z.number().int().min(1).max(256)),
    concurrency: nonEmpty(z.number().int().min(1).max(100_000)),
    mechanism: nonEmpty(z.enum(['sync', 'flexsc'])),
    pollution: nonEmpty(z.enum(['on', 'off'])).optional(),
    entries_per_core: nonEmpty(z.number().int().min(64).max(4096 * 64).refine((n) => n % 64 === 0, 'expected a multiple of 64 (whole syscall pages)')).optional(),
  }),
  requests: z
    .strictObject({
      warmup: z.number().int().min(0).max(MAX_REQUESTS),
      measured: z.number().int().min(2).max(MAX_REQUESTS),
      max_windows: z.number().int().min(1).max(64).optional(),
      drift_limit_pct: z.number().min(0).max(100).optional(),
    })
    .optional(),
  replications: z.number().int().min(2, 'expected at least 2 (one run needs no replications)').max(1000).optional(),
});
export type UserExperimentFile = z.infer<typeof UserExperimentSchema>;

const COLUMNS = [
  'cores',
  'concurrency',
  'mechanism',
  'pollution',
  'entries_per_core',
  'throughput_rps',
  'throughput_ci95_pct',
  'latency_mean_ms',
  'latency_p99_ms',
  'user_ipc',
  'kernel_ipc',
  'user_pct',
  'kernel_pct',
  'idle_pct',
  'syscalls_per_request',
] as const;

/** Whether a `run` argument names a user experiment file rather than a built-in id. */
export function isExperimentFile(arg: string): boolean {
  return arg.endsWith('.json');
}

const cache = new Map<string, Experiment>();

/** Reads, validates and builds a user experiment (cached per absolute path). */
export function loadUserExperiment(file: string): Experiment {
  const path = resolve(file);
  const hit = cache.get(path);
  if (hit) return hit;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FileInputError(file, undefined, `cannot read the experiment file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FileInputError(file, undefined, `not valid JSON (${(err as Error).message})`);
  }
  const parsed = UserExperimentSchema.safeParse(raw);
  if (!parsed.success) throw new FileInputError(file, undefined, `invalid experiment\n${formatIssues(parsed.error.issues, '')}`);
  const exp = buildExperiment(parsed.data, path);
  cache.set(path, exp);
  return exp;
}

/** The file's overrides applied on top of a run's configuration (checked as a whole). */
function withOverrides(config: RunConfig, overrides: readonly string[], file: string): RunConfig {
  if (overrides.length === 0) return config;
  const tree = structuredClone(config) as unknown as Record<string, unknown>;
  for (const o of overrides) applyOverride(tree, parseOverride(o));
  const parsed = RunConfigSchema.safeParse(tree);
  if (!parsed.success) throw new FileInputError(file, undefined, `its overrides make an invalid configuration\n${formatIssues(parsed.error.issues, '')}`);
  return parsed.data;
}

function buildExperiment(f: UserExperimentFile, path: string): Experiment {
  const g = f.grid;
  const pollution = g.pollution ?? ['on'];
  const entries = g.entries_per_core ?? [0];
  const points: Point[] = [];
  for (const cores of g.cores)
    for (const concurrency of g.concurrency)
      for (const mechanism of g.mechanism)
        for (const p of pollution) for (const e of entries) points.push({ cores, concurrency, mechanism, pollution: p, entries_per_core: e });
  // Overrides are checked once, here, against the preset, so a bad one fails before any point runs.
  return {
    id: f.id,
    title: f.title ?? `${f.workload}-like sweep from ${path}`,
    reproduces: `user experiment ${path}`,
    description: `A sweep of the ${f.workload}-like server over the grid of ${path}.`,
    source: path,
    replicable: true,
    grid: () => points,
    columns: COLUMNS,
    precision: { throughput_rps: 0, throughput_ci95_pct: 2, latency_mean_ms: 3, latency_p99_ms: 3, user_ipc: 3, kernel_ipc: 3, user_pct: 1, kernel_pct: 1, idle_pct: 1, syscalls_per_request: 2 },
    run(point: Point, ctx: PointContext): Row[] {
      const config = withOverrides(ctx.config, f.overrides, path);
      const p = serverPointOf(f.workload, point);
      const size = f.requests === undefined ? undefined : { warmup: f.requests.warmup, measured: f.requests.measured, maxWindows: f.requests.max_windows, driftLimitPct: f.requests.drift_limit_pct };
      const { result: r, summaries } = runReplicated(config, p, ctx.seed, ctx.quick, f.replications ?? ctx.replications ?? 1, size);
      ctx.record?.('cyclesPerRequest', r.stackPerRequest);
      ctx.record?.('locks', r.locks);
      ctx.record?.('window', windowDetails(r));
      if (summaries !== undefined) ctx.record?.('replications', summaries);
      return [
        {
          cores: p.cores,
          concurrency: p.concurrency,
          mechanism: p.mechanism,
          pollution: String(point.pollution),
          entries_per_core: Number(point.entries_per_core) > 0 ? Number(point.entries_per_core) : config.os.flexsc.pagesPerCore * 64,
          throughput_rps: r.throughputRps,
          throughput_ci95_pct: r.throughputCi95Pct,
          latency_mean_ms: r.latencyMeanMs,
          latency_p99_ms: r.latencyP99Ms,
          user_ipc: r.user.ipc,
          kernel_ipc: r.kernel.ipc,
          user_pct: r.userPct,
          kernel_pct: r.kernelPct,
          idle_pct: r.idlePct,
          syscalls_per_request: r.syscallsPerRequest,
        },
      ];
    },
    plot(rows: Row[]): TopLevelSpec {
      return facetLineChartSpec({
        title: f.title ?? f.id,
        subtitle: `${f.workload}-like server (user experiment)`,
        data: rows.map((r) => ({ ...r, series: `${r.mechanism}${r.pollution === 'off' ? ', no pollution' : ''}` })),
        column: { field: 'cores', title: 'cores' },
        x: { field: 'concurrency', title: 'concurrent clients', scale: 'log' },
        y: { field: 'throughput_rps', title: 'requests/s' },
        color: { field: 'series', title: 'mechanism' },
      });
    },
  };
}

/** Checks a user experiment's file-level overrides against a configuration before running. */
export function checkUserExperiment(exp: Experiment, config: RunConfig): void {
  if (exp.source === undefined) return;
  const f = UserExperimentSchema.parse(JSON.parse(readFileSync(exp.source, 'utf8')));
  withOverrides(config, f.overrides, exp.source);
}
