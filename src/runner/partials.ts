/**
 * Partial results: every finished point is kept as `OUT/.partial/ID/<index>.json` (for a
 * shard, `OUT/.partial/ID.shard-i-of-n/`), written atomically, so a run stopped by Ctrl-C,
 * a kill, a crash or `--max-seconds` can be continued with `--resume`: finished points are
 * read back instead of recomputed, and the CSV comes out byte-identical to an
 * uninterrupted run's (rows are kept as computed, and JSON gives numbers back exactly).
 *
 * Each file carries the key of its point (`pointKey`: tool version, code fingerprint,
 * experiment, machine, overrides, seed, quick, effective configuration, index and point).
 * A file under another key is stale: it is ignored — with a message naming the field that
 * differs — and the point is recomputed. Partials are deleted when the whole command has
 * succeeded; a run without `--resume` starts by deleting those of its experiments.
 */
import { existsSync, readdirSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Point } from '../experiment.js';
import { writeFileAtomic } from '../report/files.js';
import { identityDifference, identityRecord, pointKey, type IdentityRecord, type RunIdentity } from './identity.js';
import type { PointOutput } from './point.js';

export const PARTIAL_DIR = '.partial';

const CellSchema = z.union([z.string(), z.number(), z.boolean()]);
const PartialFileSchema = z.object({
  format: z.literal('flexsc-sim partial result'),
  key: z.string(),
  index: z.number().int().nonnegative(),
  point: z.record(z.string(), CellSchema),
  identity: z.object({
    version: z.string(),
    code: z.string(),
    experiment: z.string(),
    file: z.string().default(''),
    machine: z.string(),
    overrides: z.array(z.string()),
    seed: z.number(),
    quick: z.boolean(),
    replications: z.number().int().min(1).default(1),
    grid: z.array(z.record(z.string(), CellSchema)),
    config: z.string(),
  }),
  rows: z.array(z.record(z.string(), CellSchema)),
  details: z.record(z.string(), z.unknown()).optional(),
});

export interface ResumeReport {
  /** Points read back, by index. */
  found: Map<number, PointOutput>;
  /** Human-readable reasons for files that were not used (stale or unreadable). */
  ignored: string[];
}

export class PartialStore {
  readonly dir: string;
  private readonly record: IdentityRecord;

  constructor(
    out: string,
    private readonly id: RunIdentity,
    shard?: { index: number; count: number },
  ) {
    const name = shard ? `${id.experiment}.shard-${shard.index}-of-${shard.count}` : id.experiment;
    this.dir = join(out, PARTIAL_DIR, name);
    this.record = identityRecord(id);
  }

  private file(index: number): string {
    return join(this.dir, `${index}.json`);
  }

  /** Keeps one finished point (atomically: a reader never sees half a file). */
  save(index: number, point: Point, output: PointOutput): void {
    const body = {
      format: 'flexsc-sim partial result',
      key: pointKey(this.id, index, point),
      index,
      point,
      identity: this.record,
      rows: output.rows,
      ...(output.details ? { details: output.details } : {}),
    };
    writeFileAtomic(this.file(index), JSON.stringify(body) + '\n');
  }

  /** Reads back the finished points that belong to this run; reports the others. */
  load(): ResumeReport {
    const found = new Map<number, PointOutput>();
    const ignored: string[] = [];
    if (!existsSync(this.dir)) return { found, ignored };
    const names = readdirSync(this.dir).filter((n) => /^\d+\.json$/.test(n));
    names.sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
    for (const name of names) {
      const path = join(this.dir, name);
      let parsed: z.infer<typeof PartialFileSchema>;
      try {
        const r = PartialFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
        if (!r.success) throw new Error('not a partial result of this tool');
        parsed = r.data;
      } catch (err) {
        ignored.push(`${path}: unreadable (${(err as Error).message})`);
        continue;
      }
      const index = parsed.index;
      const point = this.id.grid[index];
      if (point === undefined || `${index}.json` !== name) {
        ignored.push(`${path}: point ${index} is not in this run's grid of ${this.id.grid.length} points`);
        continue;
      }
      if (parsed.key !== pointKey(this.id, index, point)) {
        const d = identityDifference(parsed.identity, this.record);
        const why = d ? `made with ${d.field} ${d.a}, this run has ${d.b}` : `made for another point (${JSON.stringify(parsed.point)})`;
        ignored.push(`${path}: stale, ${why}`);
        continue;
      }
      found.set(index, parsed.details ? { rows: parsed.rows, details: parsed.details } : { rows: parsed.rows });
    }
    return { found, ignored };
  }

  /** Deletes this experiment's partial results (and `.partial/` once empty). */
  clear(): void {
    rmSync(this.dir, { recursive: true, force: true });
    try {
      rmdirSync(join(this.dir, '..'));
    } catch {
      // not empty (other experiments' partials) or already gone
    }
  }
}
