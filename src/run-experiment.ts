/**
 * The shared output contract of an experiment (DESIGN.md §8): for experiment ID,
 * `ID.csv` (rows in grid order, fixed precision), `ID.meta.json` (tool version,
 * experiment, machine, overrides, seed, grid, effective config, and the evidence points
 * recorded), and the chart as `ID.vl.json`, `ID.svg`, `ID.png`. Every file is written
 * atomically, and only once all of an experiment's points are done, so a failed or
 * interrupted run leaves no partial `ID.csv`.
 *
 * Where the points run (this thread, worker threads, shards on other machines) is the
 * runner's business (`src/runner/`); whatever it was, the rows arrive here in grid order,
 * so the files are byte-identical.
 */
import { join } from 'node:path';
import { replicationsFor, seedOf, type Experiment, type Point, type PointDetails } from './experiment.js';
import { toCsv, type Row } from './report/csv.js';
import { writeFileAtomic } from './report/files.js';
import { writeChart } from './report/plot.js';
import { buildRunConfig, type RunConfig } from './run-config.js';
import { checkPointRows, computePoint, pointFailure, type PointOutput } from './runner/point.js';
import { toolVersion } from './version.js';

/** What identifies a run to the user: the options shared by `run` and `reproduce`. */
export interface RunOptions {
  out: string;
  seed: number;
  machine: string;
  overrides: string[];
  quick: boolean;
  /** Independent runs averaged per point of a server experiment (absent: 1). */
  replications?: number;
  /** Called after each point (for progress reporting). */
  onPoint?: (done: number, total: number) => void;
}

/** Evidence an experiment recorded for one point (e.g. cycle stacks), kept in ID.meta.json. */

export interface ExperimentResult {
  experiment: Experiment;
  rows: Row[];
  config: RunConfig;
  details: PointDetails[];
  csv: string;
}

/** Puts the outputs of every point of an experiment (indexed by grid position) together. */
export function assembleResult(exp: Experiment, config: RunConfig, grid: readonly Point[], outputs: readonly PointOutput[]): ExperimentResult {
  const rows: Row[] = [];
  const details: PointDetails[] = [];
  grid.forEach((point, i) => {
    const out = outputs[i];
    if (out === undefined) throw new Error(`${exp.id}: point ${i} has no result`);
    rows.push(...out.rows);
    if (out.details && Object.keys(out.details).length > 0) details.push({ point, ...out.details });
  });
  return { experiment: exp, rows, config, details, csv: toCsv(exp.columns, rows, exp.precision) };
}

/** The content of ID.meta.json. */
export function experimentMeta(exp: Experiment, opts: Pick<RunOptions, 'machine' | 'overrides' | 'seed' | 'quick' | 'replications'>, result: ExperimentResult): Record<string, unknown> {
  const replications = replicationsFor(exp, opts.replications);
  return {
    tool: 'flexsc-sim',
    version: toolVersion,
    experiment: exp.id,
    title: exp.title,
    reproduces: exp.reproduces,
    machine: opts.machine,
    overrides: opts.overrides,
    seed: opts.seed,
    quick: opts.quick,
    ...(replications > 1 ? { replications } : {}),
    grid: exp.grid(opts.quick),
    columns: exp.columns,
    config: result.config,
    ...(exp.meta ? { notes: exp.meta({ config: result.config }) } : {}),
    ...(result.details.length > 0 ? { details: result.details } : {}),
  };
}

/** Writes ID.csv, ID.meta.json and the chart files, each atomically. */
export async function writeExperimentOutputs(exp: Experiment, opts: Omit<RunOptions, 'onPoint'>, result: ExperimentResult): Promise<void> {
  const meta = experimentMeta(exp, opts, result);
  writeFileAtomic(join(opts.out, `${exp.id}.csv`), result.csv);
  writeFileAtomic(join(opts.out, `${exp.id}.meta.json`), JSON.stringify(meta, null, 2) + '\n');
  await writeChart(opts.out, exp.id, exp.plot(result.rows, { config: result.config, machine: opts.machine }));
}

/**
 * Runs every point of an experiment in this thread, in grid order, and returns its rows
 * (writes nothing). The command line uses the runner (`src/runner/sweep.ts`) instead.
 */
export function computeExperiment(exp: Experiment, opts: Omit<RunOptions, 'out'>): ExperimentResult {
  const config = buildRunConfig(opts.machine, opts.overrides);
  const grid = exp.grid(opts.quick);
  const outputs = grid.map((point: Point, index: number) => {
    let out: PointOutput;
    try {
      const replications = replicationsFor(exp, opts.replications);
      out = computePoint(exp, { experiment: exp.id, index, point, config, seed: seedOf(exp, point, opts.seed), quick: opts.quick, ...(replications > 1 ? { replications } : {}) });
    } catch (err) {
      throw pointFailure(exp.id, index, point, err);
    }
    checkPointRows(exp, index, point, out.rows);
    opts.onPoint?.(index + 1, grid.length);
    return out;
  });
  return assembleResult(exp, config, grid, outputs);
}

/** Computes an experiment in this thread and writes its outputs. */
export async function runExperiment(exp: Experiment, opts: RunOptions): Promise<ExperimentResult> {
  const result = computeExperiment(exp, opts);
  await writeExperimentOutputs(exp, opts, result);
  return result;
}

/** Markdown summary of a set of results: per experiment, what it reproduces and how it compares. */
export function summaryMarkdown(results: readonly ExperimentResult[], opts: Pick<RunOptions, 'machine' | 'overrides' | 'seed' | 'quick' | 'replications'>): string {
  const lines = [
    '# flexsc-sim: reproduction summary',
    '',
    `Machine \`${opts.machine}\`${opts.overrides.length ? ` with ${opts.overrides.map((o) => `\`--set ${o}\``).join(', ')}` : ''}, seed ${opts.seed}${opts.quick ? ', quick mode (reduced grids)' : ''}${(opts.replications ?? 1) > 1 ? `, ${opts.replications} replications per server point` : ''}, flexsc-sim ${toolVersion}.`,
    '',
  ];
  for (const r of results) {
    const e = r.experiment;
    lines.push(`## ${e.id}: ${e.title}`, '', `Reproduces: ${e.reproduces}. Data: \`${e.id}.csv\`, chart: \`${e.id}.png\`.`, '');
    const s = e.summarize?.(r.rows, r.details) ?? [];
    if (s.length) lines.push(...s, '');
  }
  return lines.join('\n');
}
