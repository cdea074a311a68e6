/**
 * Shards: `--shard i/n` runs a deterministic slice of the points — number the points of the
 * selected experiments one after the other (experiment order, then grid order) and take
 * those whose number mod n is i − 1 — and writes, per experiment, `ID.shard-i-of-n.json`:
 * the rows and recorded details of its points by grid index, plus what identifies the run.
 * `flexsc-sim merge` reads the shard files of every shard and writes the normal outputs,
 * after checking that the shards agree on every identity field (tool version, code,
 * experiment, machine, overrides, seed, quick, grid, configuration) and that together
 * they hold each point exactly once. Any batch system or CI matrix can run the shards.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import type { Experiment, Point } from '../experiment.js';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../report/files.js';
import type { RunConfig } from '../run-config.js';
import { canonicalJson, identityDifference, identityRecord, sha256, type IdentityRecord, type RunIdentity } from './identity.js';
import type { PointOutput } from './point.js';

export interface ShardSpec {
  /** 1-based. */
  index: number;
  count: number;
}

/** Parses `i/n` (1 ≤ i ≤ n). Throws an InputError naming --shard. */
export function parseShard(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new InputError(`--shard '${text}': expected i/n, e.g. --shard 2/4 (the 2nd of 4 shards)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new InputError(`--shard '${text}': the number of shards n must be at least 1`);
  if (index < 1 || index > count) throw new InputError(`--shard '${text}': the shard number i must be from 1 to ${count}`);
  if (count > 1_000_000) throw new InputError(`--shard '${text}': at most 1000000 shards`);
  return { index, count };
}

/** Whether the point numbered `n` (0-based, across the selected experiments) is in the shard. */
export function inShard(n: number, shard: ShardSpec | undefined): boolean {
  return shard === undefined || n % shard.count === shard.index - 1;
}

export function shardFileName(experiment: string, shard: ShardSpec): string {
  return `${experiment}.shard-${shard.index}-of-${shard.count}.json`;
}

const SHARD_FILE = /^(.+)\.shard-(\d+)-of-(\d+)\.json$/;

const CellSchema = z.union([z.string(), z.number(), z.boolean()]);
const PointSchema = z.record(z.string(), CellSchema);
const ShardFileSchema = z.object({
  format: z.literal('flexsc-sim shard'),
  command: z.enum(['run', 'reproduce']),
  shard: z.object({ index: z.number().int().min(1), count: z.number().int().min(1) }),
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
    grid: z.array(PointSchema),
    config: z.string(),
  }),
  config: z.record(z.string(), z.unknown()),
  points: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      point: PointSchema,
      rows: z.array(z.record(z.string(), CellSchema)),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
});
export type ShardFile = z.infer<typeof ShardFileSchema>;

/** Writes one experiment's shard output (atomically). */
export function writeShardFile(
  out: string,
  command: 'run' | 'reproduce',
  shard: ShardSpec,
  id: RunIdentity,
  points: readonly { index: number; output: PointOutput }[],
): string {
  const body: ShardFile = {
    format: 'flexsc-sim shard',
    command,
    shard,
    identity: identityRecord(id),
    config: id.config as unknown as Record<string, unknown>,
    points: points.map(({ index, output }) => ({ index, point: id.grid[index], rows: output.rows, ...(output.details ? { details: output.details } : {}) })),
  };
  const path = join(out, shardFileName(id.experiment, shard));
  writeFileAtomic(path, JSON.stringify(body) + '\n');
  return path;
}

export interface LoadedShard {
  file: string;
  data: ShardFile;
}

/** The shard files named by the arguments of `merge`: directories (their shard files) or files. */
export function findShardFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new InputError(`merge: ${p}: no such file or directory`);
    if (statSync(p).isDirectory()) {
      const found = readdirSync(p)
        .filter((n) => SHARD_FILE.test(n))
        .sort()
        .map((n) => join(p, n));
      if (found.length === 0) throw new InputError(`merge: ${p}: no shard files (ID.shard-i-of-n.json) in this directory`);
      files.push(...found);
    } else {
      if (!SHARD_FILE.test(basename(p))) throw new InputError(`merge: ${p}: not a shard file (expected a name like ID.shard-i-of-n.json)`);
      files.push(p);
    }
  }
  return files;
}

export function readShardFile(file: string): LoadedShard {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`merge: ${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = ShardFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`merge: ${file}: not a flexsc-sim shard file (${issue ? `${issue.path.join('.') || 'top level'}: ${issue.message}` : 'invalid'})`);
  }
  const d = parsed.data;
  if (sha256(canonicalJson(d.config)) !== d.identity.config) throw new InputError(`merge: ${file}: its configuration does not match its own hash (edited by hand?)`);
  return { file, data: d };
}

/** One experiment's shards, checked: every point exactly once, all identities equal. */
export interface MergedExperiment {
  experiment: string;
  command: 'run' | 'reproduce';
  identity: IdentityRecord;
  config: RunConfig;
  outputs: PointOutput[];
  files: string[];
}

function ranges(indices: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < indices.length; i++) {
    let j = i;
    while (j + 1 < indices.length && indices[j + 1] === indices[j] + 1) j++;
    out.push(i === j ? `${indices[i]}` : `${indices[i]}–${indices[j]}`);
    i = j;
  }
  return out.join(', ');
}

/**
 * Groups shard files by experiment and checks each group. Throws an InputError (exit 2)
 * naming the field and files when shards disagree, or the points that are missing or held
 * twice.
 */
export function checkShards(shards: readonly LoadedShard[], expected: { version: string; code: string }): MergedExperiment[] {
  const groups = new Map<string, LoadedShard[]>();
  for (const s of shards) {
    const id = s.data.identity.experiment;
    groups.set(id, [...(groups.get(id) ?? []), s]);
  }
  const merged: MergedExperiment[] = [];
  for (const [experiment, group] of groups) {
    const first = group[0];
    for (const s of group.slice(1)) {
      const d = identityDifference(first.data.identity, s.data.identity);
      if (d) throw new InputError(`merge: ${experiment}: shards disagree on ${d.field}: ${first.file} has ${d.a}, ${s.file} has ${d.b}`);
      if (s.data.shard.count !== first.data.shard.count) {
        throw new InputError(`merge: ${experiment}: shards disagree on the shard count: ${first.file} is of ${first.data.shard.count}, ${s.file} of ${s.data.shard.count}`);
      }
    }
    const idr = first.data.identity;
    if (idr.version !== expected.version) {
      throw new InputError(`merge: ${experiment}: shards disagree with this flexsc-sim on version: ${first.file} has ${JSON.stringify(idr.version)}, this is ${JSON.stringify(expected.version)}; merge with the version that made the shards`);
    }
    if (idr.code !== expected.code) {
      throw new InputError(
        `merge: ${experiment}: shards disagree with this flexsc-sim on code: ${first.file} was made by build ${idr.code.slice(0, 12)}, this is ${expected.code.slice(0, 12)}; merge with the same commit and a fresh \`npm run build\``,
      );
    }
    const n = idr.grid.length;
    const holder = new Map<number, string>();
    const outputs: PointOutput[] = new Array<PointOutput>(n);
    for (const s of group) {
      for (const p of s.data.points) {
        if (p.index >= n) throw new InputError(`merge: ${s.file}: point ${p.index} is outside the grid of ${n} points`);
        if (canonicalJson(p.point) !== canonicalJson(idr.grid[p.index])) throw new InputError(`merge: ${s.file}: point ${p.index} is ${JSON.stringify(p.point)}, the grid has ${JSON.stringify(idr.grid[p.index])}`);
        const other = holder.get(p.index);
        if (other !== undefined) throw new InputError(`merge: ${experiment}: point ${p.index} ${JSON.stringify(p.point)} is duplicated: it is in ${other} and in ${s.file}`);
        holder.set(p.index, s.file);
        outputs[p.index] = p.details ? { rows: p.rows, details: p.details } : { rows: p.rows };
      }
    }
    const missing = [...Array(n).keys()].filter((i) => !holder.has(i));
    if (missing.length > 0) {
      const count = first.data.shard.count;
      const present = new Set(group.map((s) => s.data.shard.index));
      const absent = [...Array(count).keys()].map((i) => i + 1).filter((i) => !present.has(i));
      throw new InputError(
        `merge: ${experiment}: ${missing.length} of ${n} points missing (index ${ranges(missing)})` +
          (absent.length ? `; no file of shard${absent.length > 1 ? 's' : ''} ${absent.map((i) => `${i}/${count}`).join(', ')} was given` : ''),
      );
    }
    merged.push({ experiment, command: group.every((s) => s.data.command === 'reproduce') ? 'reproduce' : 'run', identity: idr, config: first.data.config as unknown as RunConfig, outputs, files: group.map((s) => s.file) });
  }
  // One merge joins the shards of one sweep: the run-wide fields agree across experiments.
  const base = merged[0];
  for (const m of merged.slice(1)) {
    // Replications apply to the server experiments only (the others run once), so they may differ.
    const d = identityDifference({ ...m.identity, experiment: base.identity.experiment, grid: base.identity.grid, replications: base.identity.replications }, base.identity);
    if (d) throw new InputError(`merge: shards of different runs: ${m.files[0]} has ${d.field} ${d.a}, ${base.files[0]} has ${d.b}; merge each run into its own --out`);
  }
  return merged;
}

/** The experiments of a merge, checked against the registry. */
export function mergeTargets(merged: readonly MergedExperiment[], lookup: (id: string) => Experiment | undefined): { exp: Experiment; m: MergedExperiment }[] {
  return merged.map((m) => {
    const exp = lookup(m.experiment);
    if (!exp) throw new InputError(`merge: ${m.files[0]}: unknown experiment '${m.experiment}'`);
    const grid: Point[] = exp.grid(m.identity.quick);
    if (canonicalJson(grid) !== canonicalJson(m.identity.grid)) throw new InputError(`merge: ${m.files[0]}: its grid differs from ${m.experiment}'s grid in this flexsc-sim`);
    return { exp, m };
  });
}
