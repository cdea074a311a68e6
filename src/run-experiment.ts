/**
 * Runs experiments and writes the shared output contract (DESIGN.md §8): for experiment
 * ID, `ID.csv` (rows in grid order, fixed precision), `ID.meta.json` (tool version,
 * experiment, machine, overrides, seed, grid, effective config), and the chart as
 * `ID.vl.json`, `ID.svg`, `ID.png`. All points run before anything is written, and every
 * file is written atomically, so a failed run leaves no partial `ID.csv`.
 */
import { join } from 'node:path';
import type { Experiment, Point } from './experiment.js';
import { InputError } from './errors.js';
import { toCsv, type Row } from './report/csv.js';
import { writeFileAtomic } from './report/files.js';
import { writeChart } from './report/plot.js';
import { buildRunConfig, type RunConfig } from './run-config.js';
import { pointSeed } from './seed.js';
import { toolVersion } from './version.js';

export interface RunOptions {
  out: string;
  seed: number;
  machine: string;
  overrides: string[];
  quick: boolean;
  /** Called after each point (for progress reporting). */
  onPoint?: (done: number, total: number) => void;
}

/** Evidence an experiment recorded for one point (e.g. cycle stacks), kept in ID.meta.json. */
export type PointDetails = { point: Point } & Record<string, unknown>;

export interface ExperimentResult {
  experiment: Experiment;
  rows: Row[];
  config: RunConfig;
  details: PointDetails[];
  csv: string;
}

/** Runs every point of an experiment in grid order and returns its rows (writes nothing). */
export function computeExperiment(exp: Experiment, opts: Omit<RunOptions, 'out'>): ExperimentResult {
  const config = buildRunConfig(opts.machine, opts.overrides);
  const grid = exp.grid(opts.quick);
  const rows: Row[] = [];
  const details: PointDetails[] = [];
  grid.forEach((point: Point, i: number) => {
    let pointRows: Row[];
    const recorded: Record<string, unknown> = {};
    const record = (name: string, value: unknown) => {
      recorded[name] = value;
    };
    try {
      pointRows = exp.run(point, { config, seed: pointSeed(exp.id, point, opts.seed), quick: opts.quick, record });
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new Error(`${exp.id}: point ${JSON.stringify(point)} failed: ${(err as Error).message}`, { cause: err });
    }
    rows.push(...pointRows);
    if (Object.keys(recorded).length > 0) details.push({ point, ...recorded });
    opts.onPoint?.(i + 1, grid.length);
  });
  return { experiment: exp, rows, config, details, csv: toCsv(exp.columns, rows, exp.precision) };
}

export async function runExperiment(exp: Experiment, opts: RunOptions): Promise<ExperimentResult> {
  const result = computeExperiment(exp, opts);
  const meta = {
    tool: 'flexsc-sim',
    version: toolVersion,
    experiment: exp.id,
    title: exp.title,
    reproduces: exp.reproduces,
    machine: opts.machine,
    overrides: opts.overrides,
    seed: opts.seed,
    quick: opts.quick,
    grid: exp.grid(opts.quick),
    columns: exp.columns,
    config: result.config,
    ...(exp.meta ? { notes: exp.meta({ config: result.config }) } : {}),
    ...(result.details.length > 0 ? { details: result.details } : {}),
  };
  writeFileAtomic(join(opts.out, `${exp.id}.csv`), result.csv);
  writeFileAtomic(join(opts.out, `${exp.id}.meta.json`), JSON.stringify(meta, null, 2) + '\n');
  await writeChart(opts.out, exp.id, exp.plot(result.rows, { config: result.config, machine: opts.machine }));
  return result;
}

/** Markdown summary of a set of results: per experiment, what it reproduces and how it compares. */
export function summaryMarkdown(results: readonly ExperimentResult[], opts: RunOptions): string {
  const lines = [
    '# flexsc-sim: reproduction summary',
    '',
    `Machine \`${opts.machine}\`${opts.overrides.length ? ` with ${opts.overrides.map((o) => `\`--set ${o}\``).join(', ')}` : ''}, seed ${opts.seed}${opts.quick ? ', quick mode (reduced grids)' : ''}, flexsc-sim ${toolVersion}.`,
    '',
  ];
  for (const r of results) {
    const e = r.experiment;
    lines.push(`## ${e.id}: ${e.title}`, '', `Reproduces: ${e.reproduces}. Data: \`${e.id}.csv\`, chart: \`${e.id}.png\`.`, '');
    const s = e.summarize?.(r.rows) ?? [];
    if (s.length) lines.push(...s, '');
  }
  return lines.join('\n');
}
