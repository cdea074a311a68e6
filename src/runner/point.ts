/**
 * One parameter point: running it (the same code in the main thread and in a worker) and
 * checking what it returned before anything is kept.
 *
 * No quiet wrong numbers: a point whose rows hold a value that is not a finite number, a
 * negative time or rate (columns ending in `_ns`, `_ms`, `_cycles`, `_rps`), a missing
 * column or a cell that is not a string, number or boolean fails the run, naming the
 * experiment, the point and the column; none of its rows is written anywhere.
 */
import type { Experiment, Point } from '../experiment.js';
import { InputError } from '../errors.js';
import type { Cell, Row } from '../report/csv.js';
import { setEventLimit } from '../model/engine.js';
import type { RunConfig } from '../run-config.js';
import { DiskMemo } from './memo.js';

/** What a worker (or the main thread) is asked to run. */
export interface PointTask {
  experiment: string;
  /** A user experiment's file (workers load it from there; absent for built-in ones). */
  source?: string;
  /** The point's index in the experiment's grid. */
  index: number;
  point: Point;
  config: RunConfig;
  /** The point's own seed (derived from experiment, point and --seed). */
  seed: number;
  quick: boolean;
  /** `--replications` (absent: 1). */
  replications?: number;
  /** `--max-events`: a simulation of this point that processes more events fails. */
  maxEvents?: number;
  /** The run's store of shared simulations (`DiskMemo`): its directory and key salt. */
  memo?: { dir: string; salt: string };
}

/** What one point produced: its rows and the evidence it recorded (JSON values). */
export interface PointOutput {
  rows: Row[];
  /** What the experiment passed to `record`, or undefined when it recorded nothing. */
  details?: Record<string, unknown>;
}

/** "fig9 point 2 {batch_size: 64}" — how messages name a point. */
export function describePoint(experiment: string, index: number, point: Point): string {
  const fields = Object.entries(point).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return `${experiment} point ${index} (${fields.join(', ')})`;
}

/** A point that failed or returned unusable rows: the run fails (exit 1). */
export class PointError extends Error {
  override readonly name = 'PointError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Runs one point. Details are passed through JSON so that what is kept does not depend on
 * whether the point ran in this thread or in a worker (structured clone keeps Maps and
 * `undefined`s that JSON drops).
 */
export function computePoint(exp: Experiment, task: PointTask): PointOutput {
  const recorded: Record<string, unknown> = {};
  let any = false;
  const record = (name: string, value: unknown): void => {
    recorded[name] = value;
    any = true;
  };
  let rows: Row[];
  setEventLimit(task.maxEvents ?? Infinity);
  try {
    const memo = task.memo === undefined ? {} : { memo: new DiskMemo(task.memo.dir, task.memo.salt) };
    rows = exp.run(task.point, { config: task.config, seed: task.seed, quick: task.quick, replications: task.replications ?? 1, record, ...memo });
  } finally {
    setEventLimit(Infinity);
  }
  if (!Array.isArray(rows)) throw new Error(`run() returned ${typeof rows}, expected an array of rows`);
  return any ? { rows, details: JSON.parse(JSON.stringify(recorded)) as Record<string, unknown> } : { rows };
}

/** Columns that hold a time or a rate, which cannot be negative. */
export function isNonNegativeColumn(column: string): boolean {
  return /_(ns|ms|cycles|rps)$/.test(column);
}

function checkCell(column: string, value: unknown): string | undefined {
  if (value === undefined) return 'is missing';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'is NaN';
    if (!Number.isFinite(value)) return `is ${value}`;
    if (value < 0 && isNonNegativeColumn(column)) return `is ${value}, but a time or rate cannot be negative`;
    return undefined;
  }
  if (typeof value === 'string' || typeof value === 'boolean') return undefined;
  return `is ${value === null ? 'null' : typeof value}, expected a number, string or boolean`;
}

/**
 * Checks the rows of one point against the experiment's columns. Throws a PointError
 * naming the experiment, point, row and column of the first bad value.
 */
export function checkPointRows(exp: Experiment, index: number, point: Point, rows: readonly unknown[]): asserts rows is Row[] {
  rows.forEach((row, r) => {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new PointError(`${describePoint(exp.id, index, point)}: row ${r + 1} is not an object; no row of this point was written`);
    }
    for (const column of exp.columns) {
      const problem = checkCell(column, (row as Record<string, Cell | undefined>)[column]);
      if (problem !== undefined) {
        throw new PointError(`${describePoint(exp.id, index, point)}: row ${r + 1}, column ${column} ${problem}; no row of this point was written`);
      }
    }
  });
}

/** Turns an exception thrown by an experiment into the error the CLI reports. */
export function pointFailure(exp: string, index: number, point: Point, err: unknown): Error {
  if (err instanceof InputError || err instanceof PointError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PointError(`${describePoint(exp, index, point)} failed: ${message}`, { cause: err });
}
