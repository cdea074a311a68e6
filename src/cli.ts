#!/usr/bin/env node
/**
 * The command line. Exit codes: 0 ok, 1 a run failed (or --max-seconds/--max-events stopped it), 2 bad
 * usage or input, 130/143 interrupted by SIGINT/SIGTERM (see src/runner/sweep.ts).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { realpathSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { experimentIds, experiments } from '../experiments/index.js';
import { cacheCommand } from './commands/cache.js';
import { mergeCommand } from './commands/merge.js';
import { registerTraceCommand } from './commands/trace.js';
import { InputError, RunLimitError } from './errors.js';
import { loadPreset, presetNames } from './hw/machine-config.js';
import { writeFileAtomic } from './report/files.js';
import { buildRunConfig } from './run-config.js';
import { summaryMarkdown } from './run-experiment.js';
import { checkUserExperiment, isExperimentFile, loadUserExperiment } from './user-experiment.js';
import { PointError } from './runner/point.js';
import { Progress } from './runner/progress.js';
import { parseShard, type ShardSpec } from './runner/shard.js';
import { RunStopped, runSweep, type SweepOptions } from './runner/sweep.js';
import { toolVersion } from './version.js';

function parseSeed(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) {
    throw new InvalidArgumentError(`expected an integer from 0 to ${0xffffffff}`);
  }
  return Number(value);
}

function parseJobs(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number of at least 1 (points computed at once)');
  return Number(value);
}

function parseShardOption(value: string): ShardSpec {
  try {
    return parseShard(value);
  } catch (err) {
    // parseShard's message starts with "--shard 'x': "; commander names the option itself.
    throw new InvalidArgumentError((err as Error).message.replace(/^--shard '[^']*': /, ''));
  }
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of seconds greater than 0');
  return n;
}

function parseMaxEvents(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of events, at least 1');
  return n;
}

function parseReplications(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('expected a whole number of runs per point, 1 to 1000');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface CommonOptions {
  out: string;
  seed: number;
  machine: string;
  set: string[];
  quick: boolean;
  replications: number;
  jobs: number;
  shard?: ShardSpec;
  resume: boolean;
  maxSeconds?: number;
  maxEvents?: number;
}

function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--out <dir>', 'output directory', 'results')
    .addOption(new Option('--seed <n>', 'random seed (each point derives its own from it)').default(1).argParser(parseSeed))
    .option('--machine <name>', 'machine preset (see `flexsc-sim machines`)', 'nehalem-2010')
    .option('--set <path=value>', 'override a configuration leaf, e.g. hw.l1d.sizeKiB=64 (repeatable)', collect, [])
    .option('--quick', 'reduced grids and shorter runs (smoke tests, CI)', false)
    .addOption(
      new Option('--replications <n>', 'server experiments: run each point n times with independent seeds, average them, and take the throughput interval from their spread')
        .default(1)
        .argParser(parseReplications),
    )
    .addOption(
      new Option('--jobs <n>', 'parameter points computed at once, in worker threads (1: in this process)')
        .default(availableParallelism(), 'the number of CPUs')
        .argParser(parseJobs),
    )
    .addOption(new Option('--shard <i/n>', 'run only the i-th of n slices of the points and write shard files (join them with `flexsc-sim merge`)').argParser(parseShardOption))
    .option('--resume', 'continue an interrupted run: reuse the points it finished (kept in OUT/.partial)', false)
    .addOption(new Option('--max-seconds <s>', 'stop the run (exit 1) if it takes longer than this').argParser(parseSeconds))
    .addOption(new Option('--max-events <n>', 'fail a point (exit 1) whose simulation processes more than n events').argParser(parseMaxEvents));
}

function sweepOptions(command: 'run' | 'reproduce', o: CommonOptions, write: (s: string) => void): SweepOptions {
  // Validate machine and overrides before any work starts.
  buildRunConfig(o.machine, o.set);
  return {
    command,
    out: o.out,
    seed: o.seed,
    machine: o.machine,
    overrides: o.set,
    quick: o.quick,
    replications: o.replications,
    jobs: o.jobs,
    shard: o.shard,
    resume: o.resume,
    maxSeconds: o.maxSeconds,
    maxEvents: o.maxEvents,
    handleSignals: true,
    progress: new Progress(process.stderr, write, process.stdout.isTTY === true),
  };
}

export function buildProgram(write: (s: string) => void = (s) => process.stdout.write(s)): Command {
  const program = new Command();
  program
    .name('flexsc-sim')
    .description('Discrete-event performance simulator of exception-less system calls (FlexSC, OSDI 2010)')
    .version(toolVersion)
    .exitOverride()
    .configureOutput({ writeOut: write, writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('list')
    .description('list the experiments')
    .action(() => {
      for (const e of experiments) write(`${e.id.padEnd(16)} ${e.title}\n${' '.repeat(17)}reproduces: ${e.reproduces}\n`);
    });

  program
    .command('machines')
    .description('list the machine presets')
    .action(() => {
      for (const name of presetNames()) {
        const p = loadPreset(name);
        const hw = p.hw;
        write(
          `${name.padEnd(16)} ${hw.cores} cores @ ${hw.ghz} GHz; L1i/L1d ${hw.l1i.sizeKiB}/${hw.l1d.sizeKiB} KiB, L2 ${hw.l2.sizeKiB} KiB, L3 ${hw.l3.sizeKiB} KiB${hw.l3.inclusive ? ' inclusive' : ''}; KPTI ${hw.modeSwitch.kpti}\n${' '.repeat(17)}${p.description}\n`,
        );
      }
    });

  withCommonOptions(
    program.command('run').argument('<id>', 'experiment id (see `flexsc-sim list`), or a user experiment file (FILE.json)').description('run one experiment'),
  ).action(async (id: string, o: CommonOptions) => {
    const file = isExperimentFile(id);
    const exp = file ? loadUserExperiment(id) : experiments.find((e) => e.id === id);
    if (!exp) throw new InputError(`unknown experiment '${id}': expected one of ${experimentIds().join(', ')}, or a user experiment file ending in .json`);
    const opts = sweepOptions('run', o, write);
    if (file) checkUserExperiment(exp, buildRunConfig(o.machine, o.set));
    await runSweep([exp], opts);
  });

  withCommonOptions(program.command('reproduce').description("run every experiment and write summary.md (the paper's figures)")).action(
    async (o: CommonOptions) => {
      const opts = sweepOptions('reproduce', o, write);
      const { results } = await runSweep(experiments, opts);
      if (opts.shard) {
        write(`shard ${opts.shard.index}/${opts.shard.count} done; join the shards with \`flexsc-sim merge DIR... --out DIR\`\n`);
        return;
      }
      writeFileAtomic(join(opts.out, 'summary.md'), summaryMarkdown(results, opts));
      write(`wrote ${join(opts.out, 'summary.md')}\n`);
    },
  );

  program
    .command('merge')
    .description('join the shard files of `run --shard` / `reproduce --shard` into the normal outputs')
    .argument('<dir...>', 'directories holding ID.shard-i-of-n.json files (or the files themselves)')
    .option('--out <dir>', 'output directory', 'results')
    .option('--experiment <file.json>', 'the experiment file the shards of a `run FILE.json --shard` were made from (repeatable)', collect, [])
    .action(async (dirs: string[], o: { out: string; experiment: string[] }) => {
      await mergeCommand(dirs, o.out, experiments, write, o.experiment);
    });

  program
    .command('cache')
    .description("simulate caches on a valgrind lackey trace (--trace-mem=yes; plain, .gz or .xz) and print cachegrind's counters")
    .argument('<trace>', 'lackey trace file')
    .option('--I1 <size,assoc,line>', 'L1 instruction cache (bytes, ways, line bytes); default: the machine preset')
    .option('--D1 <size,assoc,line>', 'L1 data cache; default: the machine preset')
    .option('--LL <size,assoc,line>', 'last-level cache; default: the machine preset')
    .option('--machine <name>', 'preset supplying default geometries', 'nehalem-2010')
    .option('--json', "print one JSON object with cachegrind's event names", false)
    .action(async (trace: string, o: { I1?: string; D1?: string; LL?: string; machine: string; json: boolean }) => {
      const hw = loadPreset(o.machine).hw;
      const geom = (c: { sizeKiB: number; ways: number }) => `${c.sizeKiB * 1024},${c.ways},${hw.lineBytes}`;
      await cacheCommand(trace, { I1: o.I1, D1: o.D1, LL: o.LL, json: o.json }, { I1: geom(hw.l1i), D1: geom(hw.l1d), LL: geom(hw.l3) }, write);
    });

  // `trace FILE...`: options and outputs in src/commands/trace.ts.
  registerTraceCommand(program, write);

  return program;
}

/** The command line to continue a stopped run: the same arguments plus --resume. */
function resumeCommand(argv: readonly string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  const args = argv.includes('--resume') ? argv : [...argv, '--resume'];
  return ['flexsc-sim', ...args.map(quote)].join(' ');
}

/** Runs the CLI and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; every usage error is exit code 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof InputError) {
      process.stderr.write(`flexsc-sim: ${err.message}\n`);
      return 2;
    }
    if (err instanceof RunStopped) {
      process.stderr.write(`flexsc-sim: ${err.message}\n`);
      if (err.resumable) process.stderr.write(`to continue where it stopped, run:\n  ${resumeCommand(argv)}\n`);
      return err.exitCode;
    }
    if (err instanceof PointError) {
      // The message names the experiment and point; the stack of what the experiment threw helps fix it.
      const cause = err.cause instanceof Error && err.cause.stack && !(err.cause instanceof RunLimitError) ? `\n${err.cause.stack}` : '';
      process.stderr.write(`flexsc-sim: run failed: ${err.message}${cause}\n`);
      return 1;
    }
    process.stderr.write(`flexsc-sim: run failed: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  // Output piped into a reader that stops early (`| head`) is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  let settled = false;
  // A run whose work vanished (a promise never settled) must not exit 0 as if it had succeeded.
  process.on('beforeExit', () => {
    if (!settled) {
      process.stderr.write('flexsc-sim: internal error: the run ended before finishing its work\n');
      process.exit(1);
    }
  });
  main(process.argv.slice(2)).then((code) => {
    settled = true;
    process.exitCode = code;
  });
}
