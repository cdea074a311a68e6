/**
 * `flexsc-sim merge DIR... --out DIR`: joins the shard files written by `run --shard` or
 * `reproduce --shard` into the normal outputs (ID.csv, ID.meta.json, ID.vl.json, ID.svg,
 * ID.png; and summary.md when the shards come from `reproduce`). Every shard file is read
 * and checked before anything is written: shards that disagree (version, code, experiment,
 * machine, overrides, seed, quick, grid, configuration) or that miss or repeat a point are
 * refused with exit code 2, naming the field or the points.
 */
import { join } from 'node:path';
import type { Experiment } from '../experiment.js';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../report/files.js';
import { assembleResult, summaryMarkdown, writeExperimentOutputs, type ExperimentResult } from '../run-experiment.js';
import { codeFingerprint } from '../runner/code-fingerprint.js';
import { fileSha256 } from '../runner/identity.js';
import { checkPointRows } from '../runner/point.js';
import { checkShards, findShardFiles, mergeTargets, readShardFile } from '../runner/shard.js';
import { loadUserExperiment } from '../user-experiment.js';
import { toolVersion } from '../version.js';

export async function mergeCommand(
  inputs: readonly string[],
  out: string,
  registry: readonly Experiment[],
  write: (s: string) => void,
  /** Experiment files whose `run FILE.json --shard` shards are among the inputs. */
  experimentFiles: readonly string[] = [],
): Promise<void> {
  // Everything is read and checked before anything is written.
  const files = findShardFiles(inputs);
  const shards = files.map(readShardFile);
  const merged = checkShards(shards, { version: toolVersion, code: codeFingerprint() });
  const fromFiles = experimentFiles.map((f) => ({ file: f, exp: loadUserExperiment(f), hash: fileSha256(f) }));
  for (const m of merged) {
    if (m.identity.file === '') continue;
    const source = fromFiles.find((x) => x.exp.id === m.experiment);
    if (source === undefined) throw new InputError(`merge: ${m.files[0]} comes from an experiment file (${m.experiment}); name it with --experiment FILE.json`);
    if (source.hash !== m.identity.file) throw new InputError(`merge: ${m.files[0]} was made from another version of ${source.file} (its contents changed since); rerun the shards or use the file they were made from`);
  }
  const targets = mergeTargets(merged, (id) => {
    const m = merged.find((x) => x.experiment === id);
    return m !== undefined && m.identity.file !== '' ? fromFiles.find((x) => x.exp.id === id)?.exp : registry.find((e) => e.id === id);
  });
  // Registry order, so summary.md lists experiments as `reproduce` does.
  targets.sort((a, b) => registry.indexOf(a.exp) - registry.indexOf(b.exp));
  const first = targets[0]?.m;
  const fromReproduce = first !== undefined && targets.every((t) => t.m.command === 'reproduce');
  if (fromReproduce) {
    const absent = registry.filter((e) => !targets.some((t) => t.exp === e)).map((e) => e.id);
    if (absent.length) throw new InputError(`merge: the shards come from \`reproduce\`, but no shard file of ${absent.join(', ')} was given`);
  }
  for (const { exp, m } of targets) {
    m.outputs.forEach((o, i) => {
      try {
        checkPointRows(exp, i, m.identity.grid[i], o.rows);
      } catch (err) {
        throw new InputError(`merge: a shard file of ${exp.id} holds bad rows: ${(err as Error).message}`);
      }
    });
  }

  const results: ExperimentResult[] = [];
  for (const { exp, m } of targets) {
    const result = assembleResult(exp, m.config, m.identity.grid, m.outputs);
    const opts = { out, machine: m.identity.machine, overrides: m.identity.overrides, seed: m.identity.seed, quick: m.identity.quick, replications: m.identity.replications };
    await writeExperimentOutputs(exp, opts, result);
    results.push(result);
    write(`${exp.id}: merged ${m.files.length} shard file${m.files.length > 1 ? 's' : ''} into ${join(out, exp.id)}.{csv,meta.json,vl.json,svg,png}\n`);
  }
  if (first && fromReproduce) {
    const opts = { machine: first.identity.machine, overrides: first.identity.overrides, seed: first.identity.seed, quick: first.identity.quick, replications: Math.max(...targets.map((t) => t.m.identity.replications)) };
    writeFileAtomic(join(out, 'summary.md'), summaryMarkdown(results, opts));
    write(`wrote ${join(out, 'summary.md')}\n`);
  }
}
