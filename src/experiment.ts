/**
 * What an experiment is (DESIGN.md §8): data plus a small function. Each experiment
 * declares its id, title, the paper figure/table it reproduces, its parameter grid (a
 * smaller one for --quick), the columns and precision of its CSV, how to run one
 * parameter point, and how to plot its rows beside the paper's values.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Row } from './report/csv.js';
import type { RunConfig } from './run-config.js';
import { pointSeed } from './seed.js';

export type ParamValue = string | number | boolean;
export type Point = Record<string, ParamValue>;

export interface PointContext {
  /** Effective configuration (machine preset + --set overrides). */
  config: RunConfig;
  /** This point's seed, derived from (experiment, point, --seed). */
  seed: number;
  quick: boolean;
  /**
   * Independent runs to average per point (`--replications`, 1 by default), for experiments
   * that say they take them (`replicable`).
   */
  replications?: number;
  /**
   * Keeps evidence about this point for ID.meta.json (`details`, keyed by the point), e.g.
   * the cycle stacks behind a row. Must be deterministic like the rows.
   */
  record?: (name: string, value: unknown) => void;
  /**
   * Simulations shared between the experiments of one run (`RunMemo`): two points of
   * different experiments that simulate the same configuration with the same seed compute
   * it once. Absent outside the runner; the results are the same with or without it.
   */
  memo?: RunMemo;
}

/**
 * A store of finished simulations keyed by everything that determines them (see
 * `src/runner/memo.ts`). `get` gives back exactly what `put` was given, or undefined.
 */
export interface RunMemo {
  get(key: unknown): unknown;
  put(key: unknown, value: unknown): void;
}

export interface Experiment {
  id: string;
  /** The JSON file a user experiment was read from (absent for built-in experiments). */
  source?: string;
  title: string;
  /** The paper figure/table/section it reproduces, or what it extends. */
  reproduces: string;
  /** One-paragraph description for `list` and the README. */
  description: string;
  /** Parameter points, in output order. */
  grid(quick: boolean): Point[];
  columns: readonly string[];
  /** Decimal places per numeric column (0 when absent). */
  precision: Readonly<Record<string, number>>;
  /**
   * Its points can be replicated (`--replications N`: N independent runs averaged, the
   * throughput interval from their spread). The server experiments can; the others are
   * deterministic measurements or have no interval, and refuse the option.
   */
  replicable?: boolean;
  /**
   * Which simulation a point is, for its seed (`seedOf`): points of different experiments
   * that simulate the same configuration name the same (experiment, point) here, so they
   * get the same seed and the same numbers (Fig. 13's 256-client rows are Fig. 11's). By
   * default a point is its own (this experiment's id, the point).
   */
  seedKey?(point: Point): { experiment: string; point: Point };
  /** Runs one point; returns its CSV rows. Must be a pure function of (point, config, seed). */
  run(point: Point, ctx: PointContext): Row[];
  /** The chart of the experiment's rows (model beside paper where the paper has data). */
  plot(rows: Row[], ctx: { config: RunConfig; machine: string }): TopLevelSpec;
  /** Extra facts for ID.meta.json (e.g. the baseline a percentage is relative to). */
  meta?(ctx: { config: RunConfig }): Record<string, unknown>;
  /**
   * Lines of Markdown comparing rows with the paper, for results/summary.md; `details` are
   * what the points recorded (`PointContext.record`), in grid order.
   */
  summarize?(rows: Row[], details: readonly PointDetails[]): string[];
}

/** A point's seed: from its `seedKey` (default: the experiment's id and the point) and --seed. */
export function seedOf(exp: Experiment, point: Point, seed: number): number {
  const k = exp.seedKey?.(point) ?? { experiment: exp.id, point };
  return pointSeed(k.experiment, k.point, seed);
}

/** The runs per point an experiment makes when `requested` are asked for: 1 unless it is replicable. */
export function replicationsFor(exp: Experiment, requested: number | undefined): number {
  return exp.replicable === true ? (requested ?? 1) : 1;
}

/** What one point recorded with `PointContext.record`, beside its point (ID.meta.json `details`). */
export type PointDetails = { point: Point } & Record<string, unknown>;
