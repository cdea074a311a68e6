/**
 * Simulations shared between the experiments of one run. `reproduce` asks for the same
 * server configuration several times — Fig. 13's 256-client points are Fig. 11's, Table 4's
 * and Fig. 12's are Fig. 11's 512-client ones, the ablation's pollution-on points are
 * Fig. 11's and Fig. 14's — and since those points share their seed (`Experiment.seedKey`)
 * they would compute the same numbers twice. The runner gives every point a `DiskMemo` in
 * the run's `.partial/` directory: the first point to finish a configuration stores its
 * result there, and the others read it back instead of simulating again. Files, not
 * memory, because the points run in separate worker threads; like the partial results they
 * survive an interrupted run (for `--resume`) and are deleted when the run completes.
 *
 * A value is stored only if JSON gives it back exactly (finite numbers, no −0, plain
 * objects and arrays), so a memo hit returns the same numbers a new simulation would: the
 * outputs are byte-identical with and without the memo. The key is everything the result
 * depends on (configuration, point, seed, sizes) plus a salt (the code fingerprint and
 * version), hashed for the file name and kept whole in the file to rule out collisions.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunMemo } from '../experiment.js';
import { writeFileAtomic } from '../report/files.js';
import { canonicalJson, sha256 } from './identity.js';

const FORMAT = 'flexsc-sim shared run';

/** Hits and stores in this thread (tests and diagnostics; workers count their own). */
export const memoStats = { hits: 0, stores: 0 };

/** Whether JSON gives `value` back exactly (so a stored copy is the value itself). */
export function jsonFaithful(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every((v) => v !== undefined && jsonFaithful(v));
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    return Object.values(value as Record<string, unknown>).every((v) => v !== undefined && jsonFaithful(v));
  }
  return false;
}

export class DiskMemo implements RunMemo {
  constructor(
    readonly dir: string,
    private readonly salt: string,
  ) {}

  private locate(key: unknown): { file: string; text: string } {
    const text = canonicalJson({ salt: this.salt, key });
    const hash = sha256(text).slice(0, 32);
    return { file: join(this.dir, `${hash}.json`), text };
  }

  get(key: unknown): unknown {
    const { file, text } = this.locate(key);
    if (!existsSync(file)) return undefined;
    try {
      const body = JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown; key?: unknown; value?: unknown };
      // Another key with the same hash, or a file that is not ours: simulate instead.
      if (body.format !== FORMAT || body.key !== text) return undefined;
      memoStats.hits++;
      return body.value;
    } catch {
      return undefined;
    }
  }

  put(key: unknown, value: unknown): void {
    if (!jsonFaithful(value)) return;
    const { file, text } = this.locate(key);
    writeFileAtomic(file, JSON.stringify({ format: FORMAT, key: text, value }) + '\n');
    memoStats.stores++;
  }
}
