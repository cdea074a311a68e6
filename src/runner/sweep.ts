/**
 * The runner behind `run` and `reproduce`: the parameter points of all selected
 * experiments go into one queue (experiment order, then grid order) served by `--jobs`
 * workers, so the cores stay busy across experiment boundaries (picker.ts: a point whose
 * configuration another worker is simulating waits its turn). As each point finishes,
 * its rows are checked (`checkPointRows`) and kept as a partial result; when an
 * experiment's points are all done its outputs are written — rows in grid order, whatever
 * the completion order, so the files are byte-identical for any `--jobs`.
 *
 * Around the points: `--shard i/n` selects a slice and writes shard files instead of the
 * outputs; `--resume` reads back the partial results of an interrupted run; `--max-seconds`
 * stops a run that takes too long (the workers are terminated, so a runaway point stops
 * too — which is why it always runs points in workers, even with `--jobs 1`); SIGINT and
 * SIGTERM stop the run cleanly. A stopped run exits non-zero and keeps its finished points.
 */
import { rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { replicationsFor, seedOf, type Experiment } from '../experiment.js';
import { InputError } from '../errors.js';
import { buildRunConfig } from '../run-config.js';
import { assembleResult, writeExperimentOutputs, type ExperimentResult } from '../run-experiment.js';
import { toolVersion } from '../version.js';
import { codeFingerprint } from './code-fingerprint.js';
import { TaskPicker } from './picker.js';
import { ExecutorClosed, InProcessExecutor, WorkerPool, type PointExecutor } from './executor.js';
import { fileSha256, type RunIdentity } from './identity.js';
import { PARTIAL_DIR, PartialStore } from './partials.js';
import { checkPointRows, pointFailure, type PointOutput, type PointTask } from './point.js';
import { Progress } from './progress.js';
import { inShard, writeShardFile, type ShardSpec } from './shard.js';
import { SignalTrap, signalExitCode, type StopSignal } from './signals.js';

export interface SweepOptions {
  command: 'run' | 'reproduce';
  out: string;
  seed: number;
  machine: string;
  overrides: string[];
  quick: boolean;
  /** Independent runs averaged per point (replicable experiments only; 1: none). */
  replications?: number;
  /** Points computed at once; 1 computes them in this thread (unless maxSeconds is set). */
  jobs: number;
  shard?: ShardSpec;
  resume: boolean;
  /** Wall-clock limit for the whole run, in seconds. */
  maxSeconds?: number;
  /** Event limit for each simulation of each point (`--max-events`). */
  maxEvents?: number;
  /** Stop cleanly on SIGINT/SIGTERM (the command line); off for library use and tests. */
  handleSignals: boolean;
  /** The progress bar and the run's messages. */
  progress: Progress;
}

export interface SweepResult {
  /** Per experiment (in the given order), unless sharded. */
  results: ExperimentResult[];
  /** The shard files written, when sharded. */
  shardFiles: string[];
}

/**
 * A run that stopped before its end — interrupted by a signal or over its time limit. Its
 * finished points are kept for `--resume`.
 */
export class RunStopped extends Error {
  override readonly name = 'RunStopped';
  constructor(
    message: string,
    readonly exitCode: number,
    /** Whether `--resume` can continue it. */
    readonly resumable: boolean,
  ) {
    super(message);
  }
}

interface Plan {
  exp: Experiment;
  identity: RunIdentity;
  /** Grid indices this invocation delivers (all of them, or the shard's). */
  mine: number[];
  store: PartialStore;
  outputs: (PointOutput | undefined)[];
  remaining: number;
}

function summarizeIgnored(lines: readonly string[]): string[] {
  if (lines.length <= 3) return [...lines];
  return [...lines.slice(0, 3), `… and ${lines.length - 3} more`];
}

export async function runSweep(experiments: readonly Experiment[], opts: SweepOptions): Promise<SweepResult> {
  if (!Number.isInteger(opts.jobs) || opts.jobs < 1) throw new InputError(`--jobs ${opts.jobs}: expected a whole number of at least 1`);
  const config = buildRunConfig(opts.machine, opts.overrides);
  const code = codeFingerprint();
  const progress = opts.progress;

  // The points this invocation delivers, numbered across experiments for --shard.
  let numbered = 0;
  const replications = opts.replications ?? 1;
  if (opts.command === 'run' && replications > 1) {
    const fixed = experiments.filter((e) => e.replicable !== true).map((e) => e.id);
    if (fixed.length > 0) throw new InputError(`--replications ${replications}: ${fixed.join(', ')} cannot be replicated (only the server experiments and experiment files have runs to average); leave the option out`);
  }
  const plans: Plan[] = experiments.map((exp) => {
    const grid = exp.grid(opts.quick);
    // `reproduce --replications N` replicates the server experiments and runs the others once.
    const reps = replicationsFor(exp, replications);
    const identity: RunIdentity = {
      version: toolVersion,
      code,
      experiment: exp.id,
      file: exp.source === undefined ? '' : fileSha256(exp.source),
      machine: opts.machine,
      overrides: opts.overrides,
      seed: opts.seed,
      quick: opts.quick,
      replications: reps,
      grid,
      config,
    };
    const mine = grid.map((_p, i) => i).filter(() => inShard(numbered++, opts.shard));
    const store = new PartialStore(opts.out, identity, opts.shard);
    return { exp, identity, mine, store, outputs: new Array<PointOutput | undefined>(grid.length), remaining: mine.length };
  });

  // Simulations shared between experiments (memo.ts); per shard, like the partial results,
  // so shards running side by side in one directory never clear each other's.
  const memoDir = join(opts.out, PARTIAL_DIR, opts.shard ? `runs.shard-${opts.shard.index}-of-${opts.shard.count}` : 'runs');
  const memoSalt = `${toolVersion} ${code}`;
  const clearMemo = (): void => {
    rmSync(memoDir, { recursive: true, force: true });
    try {
      rmdirSync(join(opts.out, PARTIAL_DIR));
    } catch {
      // not empty (partial results) or already gone
    }
  };
  if (!opts.resume) clearMemo();
  for (const plan of plans) {
    if (!opts.resume) {
      plan.store.clear();
      continue;
    }
    const { found, ignored } = plan.store.load();
    let reused = 0;
    for (const i of plan.mine) {
      const out = found.get(i);
      if (out === undefined) continue;
      plan.outputs[i] = out;
      plan.remaining--;
      reused++;
    }
    if (ignored.length) {
      progress.warn(`${plan.exp.id}: ignoring ${ignored.length} partial result${ignored.length > 1 ? 's' : ''} that do${ignored.length > 1 ? '' : 'es'} not belong to this run (recomputing those points):`);
      for (const line of summarizeIgnored(ignored)) progress.warn(`  ${line}`);
    }
    if (reused) progress.warn(`${plan.exp.id}: resuming, ${reused} of ${plan.mine.length} points already done`);
  }

  const tasks = plans.flatMap((plan) => plan.mine.filter((i) => plan.outputs[i] === undefined).map((index) => ({ plan, index })));
  const total = plans.reduce((s, p) => s + p.mine.length, 0);
  const concurrency = Math.max(1, Math.min(opts.jobs, tasks.length));
  const useWorkers = tasks.length > 0 && (concurrency > 1 || opts.maxSeconds !== undefined);

  let failure: Error | undefined;
  let executor: PointExecutor | undefined;
  const stop = (err: Error): void => {
    if (failure) return;
    failure = err;
    void executor?.close();
  };
  const trap = new SignalTrap((signal: StopSignal) =>
    stop(new RunStopped(`interrupted by ${signal}`, signalExitCode(signal), true)),
  );
  const byId = new Map(experiments.map((e) => [e.id, e]));
  const lookup = (id: string): Experiment => {
    const e = byId.get(id);
    if (!e) throw new InputError(`unknown experiment '${id}'`);
    return e;
  };
  executor = useWorkers ? new WorkerPool(concurrency) : new InProcessExecutor(lookup, (fn) => trap.unguarded(fn));

  const results: (ExperimentResult | undefined)[] = new Array(plans.length);
  const shardFiles: string[] = [];
  let chain: Promise<void> = Promise.resolve();
  const finalize = (planIndex: number): void => {
    const plan = plans[planIndex];
    chain = chain
      .then(async () => {
        if (failure) return;
        if (opts.shard) {
          const points = plan.mine.map((index) => ({ index, output: plan.outputs[index] as PointOutput }));
          const file = writeShardFile(opts.out, opts.command, opts.shard, plan.identity, points);
          shardFiles.push(file);
          progress.log(`${plan.exp.id}: wrote ${file} (${points.length} of ${plan.identity.grid.length} points)`);
        } else {
          const result = assembleResult(plan.exp, config, plan.identity.grid, plan.outputs as PointOutput[]);
          await writeExperimentOutputs(plan.exp, opts, result);
          results[planIndex] = result;
          progress.log(`${plan.exp.id}: wrote ${join(opts.out, plan.exp.id)}.{csv,meta.json,vl.json,svg,png}`);
        }
      })
      .catch((err: unknown) => stop(err instanceof Error ? err : new Error(String(err))));
  };

  let done = total - tasks.length;
  const running = new Map<string, number>();
  const runningLabel = (): string => [...running.keys()].join(', ');

  if (opts.handleSignals) trap.install();
  const timer =
    opts.maxSeconds === undefined
      ? undefined
      : setTimeout(() => stop(new RunStopped(`stopped by --max-seconds ${opts.maxSeconds}: the run took longer`, 1, true)), opts.maxSeconds * 1000);
  progress.start(total, done);

  try {
    plans.forEach((plan, i) => {
      if (plan.remaining === 0) finalize(i);
    });
    const seeds = tasks.map(({ plan, index }) => seedOf(plan.exp, plan.identity.grid[index], opts.seed));
    const picker = new TaskPicker(seeds);
    const lane = async (): Promise<void> => {
      for (let t = picker.take(); !failure && t >= 0; t = picker.take()) {
        const { plan, index } = tasks[t];
        const point = plan.identity.grid[index];
        const id = plan.exp.id;
        const task: PointTask = {
          experiment: id,
          ...(plan.exp.source !== undefined ? { source: plan.exp.source } : {}),
          index,
          point,
          config,
          seed: seeds[t],
          quick: opts.quick,
          ...(plan.identity.replications > 1 ? { replications: plan.identity.replications } : {}),
          ...(opts.maxEvents !== undefined ? { maxEvents: opts.maxEvents } : {}),
          memo: { dir: memoDir, salt: memoSalt },
        };
        running.set(id, (running.get(id) ?? 0) + 1);
        let out: PointOutput;
        try {
          out = await (executor as PointExecutor).run(task);
        } catch (err) {
          if (!(err instanceof ExecutorClosed)) stop(pointFailure(id, index, point, err));
          return;
        } finally {
          picker.release(t);
          const r = (running.get(id) ?? 1) - 1;
          if (r === 0) running.delete(id);
          else running.set(id, r);
        }
        if (failure) return;
        try {
          checkPointRows(plan.exp, index, point, out.rows);
          plan.store.save(index, point, out);
        } catch (err) {
          stop(err as Error);
          return;
        }
        plan.outputs[index] = out;
        plan.remaining--;
        done++;
        progress.tick(runningLabel());
        if (plan.remaining === 0) finalize(plans.indexOf(plan));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    await chain;
  } finally {
    if (timer) clearTimeout(timer);
    trap.uninstall();
    progress.stop();
    await executor.close();
  }

  if (failure) {
    if (failure instanceof RunStopped) {
      const kept = done > 0 ? `; finished points are kept in ${join(opts.out, PARTIAL_DIR)}` : '';
      throw new RunStopped(`${failure.message} (${done} of ${total} points done${kept})`, failure.exitCode, done > 0);
    }
    throw failure;
  }
  clearMemo();
  for (const plan of plans) plan.store.clear();
  return { results: results.filter((r): r is ExperimentResult => r !== undefined), shardFiles };
}

