import { createHash } from 'node:crypto';
import type { Point } from './experiment.js';

/**
 * A parameter point's seed: a hash of (experiment id, the point, the user's --seed), so
 * each point has its own independent stream and the result of a point never depends on
 * which other points ran, in which order, or on which worker.
 */
export function pointSeed(experimentId: string, point: Point, seed: number): number {
  const keys = Object.keys(point).sort();
  const canonical = JSON.stringify(keys.map((k) => [k, point[k]]));
  const digest = createHash('sha256').update(`${experimentId}\u0000${canonical}\u0000${seed}`).digest();
  return digest.readUInt32LE(0);
}

/**
 * The seed of replication `i` of a point whose seed is `seed`: replication 0 is the point's
 * own run; the others are independent streams derived from it, so adding replications never
 * changes the ones already there.
 */
export function replicationSeed(seed: number, i: number): number {
  if (i === 0) return seed;
  return createHash('sha256').update(`replication\u0000${seed}\u0000${i}`).digest().readUInt32LE(0);
}
