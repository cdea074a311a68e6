/**
 * The discrete-event engine: simjs 2.0.3, loaded once, typed, and never touching
 * `globalThis`.
 *
 * simjs's npm bundle exports nothing under CommonJS; it only assigns `window.Sim` when a
 * `window` exists. We evaluate its source wrapped as `(function (window) { … })` with
 * `vm.runInThisContext` (same realm, so simjs's `instanceof Function` checks still work —
 * a separate context breaks them) and call it with a plain object that receives `Sim`.
 * This is the only module that knows simjs exists.
 *
 * Time unit: machine cycles. simjs orders events by delivery time and, for equal times,
 * by insertion order (its PQueue keeps an insertion counter), which gives the stable tie
 * order every run relies on for determinism.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { runInThisContext } from 'node:vm';
import { RunLimitError } from '../errors.js';

/** A pending event (simjs `Request`). */
export interface SimRequest {
  deliverAt: number;
  cancelled?: boolean;
  /** Calls `callback` (with `this` = context or the entity) when the event fires. */
  done(callback: (this: unknown, ...args: unknown[]) => void, context?: unknown, argument?: unknown): SimRequest;
  cancel(): void;
}

/** simjs `Entity`: an actor with timers. Subclasses must define `start()`. */
export interface SimEntity {
  readonly sim: SimKernel;
  name: string;
  time(): number;
  setTimer(duration: number): SimRequest;
}

export interface SimEntityClass {
  new (sim: SimKernel, name?: string): SimEntity;
  prototype: SimEntity;
}

/** simjs `Sim`: the event list and clock. */
export interface SimKernel {
  simTime: number;
  time(): number;
  addEntity<T extends SimEntity>(klass: new (sim: SimKernel, name?: string) => T, name?: string, ...args: unknown[]): T;
  /** Runs until no event is left, or endTime / maxEvents is passed. Returns false if maxEvents stopped it. */
  simulate(endTime: number, maxEvents?: number): boolean;
  step(): boolean;
}

/** simjs `Random`: a seeded Mersenne Twister with distributions. */
export interface SimRandom {
  random(): number;
  exponential(lambda: number): number;
  normal(mu: number, sigma: number): number;
  uniform(lower: number, upper: number): number;
  gamma(alpha: number, beta: number): number;
  pareto(alpha: number): number;
  weibull(alpha: number, beta: number): number;
}

interface SimjsModule {
  Sim: new () => SimKernel;
  Entity: SimEntityClass;
  Random: new (seed: number) => SimRandom;
}

function loadSimjs(): SimjsModule {
  const require = createRequire(import.meta.url);
  const path = require.resolve('simjs/sim.js');
  const source = readFileSync(path, 'utf8');
  // The bundle ends with a `//# sourceMappingURL` comment: close the wrapper on a new line.
  const factory = runInThisContext(`(function (window) {\n${source}\n})`, { filename: path }) as (w: object) => void;
  const holder: { Sim?: SimjsModule } = {};
  factory(holder);
  if (!holder.Sim || typeof holder.Sim.Sim !== 'function') {
    throw new Error(`simjs at ${path} did not define Sim: unexpected bundle layout`);
  }
  return holder.Sim;
}

const simjs = loadSimjs();

/** Creates an empty simulation (clock at 0 cycles). */
export function createSim(): SimKernel {
  return new simjs.Sim();
}

/** The simjs Entity base class, for subclassing actors. */
export const Entity: SimEntityClass = simjs.Entity;

/**
 * A seeded random stream. simjs seeds from the clock when no seed is given, so the seed
 * is mandatory here.
 */
export function createRandom(seed: number): SimRandom {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`random seed must be an integer in [0, 2^32), got ${seed}`);
  }
  return new simjs.Random(seed);
}

/**
 * `--max-events`: the most events one simulation may process before it is stopped as a
 * runaway (Infinity: no limit). Set per parameter point by the runner (`computePoint`);
 * every `Kernel.run` checks it. One per thread, and a thread runs one point at a time.
 */
let eventLimit = Infinity;

export function setEventLimit(limit: number): void {
  if (!(limit === Infinity || (Number.isInteger(limit) && limit >= 1))) throw new RangeError(`event limit must be a whole number ≥ 1, got ${limit}`);
  eventLimit = limit;
}

export function getEventLimit(): number {
  return eventLimit;
}

/** A simulation processed more events than `--max-events` allows. */
export class EventLimitExceeded extends RunLimitError {
  constructor(readonly limit: number, readonly simTime: number) {
    super(`stopped by --max-events ${limit}: one simulation processed more than ${limit} events (at simulated cycle ${Math.round(simTime)})`);
  }
}
