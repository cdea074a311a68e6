/**
 * The `trace` command: "what would FlexSC do for my program?" Replays an strace
 * recording (src/workloads/trace/replay.ts) under synchronous calls and under
 * FlexSC-Threads on a machine preset, and writes
 *
 * - `syscalls.csv`: per syscall name, the calls in the trace, the kernel path each runs in
 *   the model, and (from the synchronous replay) its modelled kernel cycles and the user
 *   cache lines its kernel execution evicted, per call;
 * - `prediction.csv`: one row per mechanism — elapsed time, CPU time, user and kernel IPC,
 *   where the cores' cycles went;
 * - `prediction.{vl.json,svg,png}`: the CPU time per component for both mechanisms;
 * - `trace.meta.json`: the inputs, options, the replay's assumptions (slowdown, median
 *   gap) and the effective machine configuration;
 *
 * and prints a one-paragraph summary. Outputs are written only once everything is
 * computed (each file atomically), so bad input leaves no partial output. CSVs have a
 * fixed precision and hold nothing host- or time-dependent: the same trace, options and
 * seed give byte-identical CSVs.
 */
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { InputError } from '../errors.js';
import { toCsv, type Row } from '../report/csv.js';
import { writeFileAtomic } from '../report/files.js';
import { barChartSpec, renderChart } from '../report/plot.js';
import { buildRunConfig, type RunConfig } from '../run-config.js';
import { pointSeed } from '../seed.js';
import { toolVersion } from '../version.js';
import {
  DEFAULT_MAX_CALLS,
  DEFAULT_USER_IPC,
  DEFAULT_WAIT_THRESHOLD_US,
  REFERENCE_INSTRUCTIONS_PER_CALL,
  planReplay,
  recordTrace,
  runBoth,
  type ReplayPlan,
  type ReplayResult,
  type TraceRecording,
  type Trust,
  type WaitMode,
} from '../workloads/trace/replay.js';

export interface TraceOptions {
  machine: string;
  /** Cores of the simulated machine (default: the preset's). */
  cores?: number;
  out: string;
  seed: number;
  set: string[];
  lenient: boolean;
  trust: Trust;
  waits: WaitMode;
  userIpc: number;
  slowdown?: number;
  instructionsPerSyscall?: number;
  waitThresholdUs: number;
  maxCalls: number;
  jobs: number;
}

export const SYSCALL_COLUMNS = [
  'syscall',
  'count',
  'share',
  'pending',
  'replayed',
  'slept',
  'kernel_path',
  'kernel_instructions_per_call',
  'kernel_cycles_per_call',
  'kernel_ipc',
  'user_lines_evicted_per_call',
  'l1i_user_lines_evicted_per_call',
  'l1d_user_lines_evicted_per_call',
  'l2_user_lines_evicted_per_call',
  'l3_user_lines_evicted_per_call',
] as const;

const SYSCALL_PRECISION: Record<string, number> = {
  share: 4,
  kernel_instructions_per_call: 0,
  kernel_cycles_per_call: 1,
  kernel_ipc: 3,
  user_lines_evicted_per_call: 1,
  l1i_user_lines_evicted_per_call: 1,
  l1d_user_lines_evicted_per_call: 1,
  l2_user_lines_evicted_per_call: 1,
  l3_user_lines_evicted_per_call: 1,
};

export const PREDICTION_COLUMNS = [
  'mechanism',
  'machine',
  'cores',
  'threads',
  'syscalls',
  'elapsed_ms',
  'elapsed_speedup',
  'cpu_ms',
  'cpu_speedup',
  'user_ipc',
  'kernel_ipc',
  'user_pct',
  'user_pollution_pct',
  'kernel_pct',
  'mode_switch_pct',
  'idle_pct',
  'user_instructions',
  'kernel_instructions',
] as const;

const PREDICTION_PRECISION: Record<string, number> = {
  elapsed_ms: 4,
  elapsed_speedup: 3,
  cpu_ms: 4,
  cpu_speedup: 3,
  user_ipc: 3,
  kernel_ipc: 3,
  user_pct: 2,
  user_pollution_pct: 2,
  kernel_pct: 2,
  mode_switch_pct: 2,
  idle_pct: 2,
};

/** Rows of syscalls.csv: by count (then name), costs from the synchronous replay. */
export function syscallRows(rec: TraceRecording, sync: ReplayResult): Row[] {
  const costs = sync.costs;
  if (costs === undefined) throw new Error('syscall costs come from the synchronous replay');
  const order = rec.syscalls.map((s, i) => i).sort((a, b) => rec.syscalls[b]!.calls - rec.syscalls[a]!.calls || cmp(rec.syscalls[a]!.name, rec.syscalls[b]!.name));
  return order.map((i) => {
    const s = rec.syscalls[i]!;
    const c = costs[i]!;
    const per = (v: number) => (c.calls > 0 ? v / c.calls : 0);
    const paths = [...s.kinds.entries()].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0])).map(([k]) => k);
    return {
      syscall: s.name,
      count: s.calls,
      share: s.calls / rec.calls,
      pending: s.pending,
      replayed: s.replayed,
      slept: s.slept,
      kernel_path: paths.join('+'),
      kernel_instructions_per_call: per(c.instructions),
      kernel_cycles_per_call: per(c.cycles),
      kernel_ipc: c.cycles > 0 ? c.instructions / c.cycles : 0,
      user_lines_evicted_per_call: per(c.l1i + c.l1d + c.l2 + c.l3),
      l1i_user_lines_evicted_per_call: per(c.l1i),
      l1d_user_lines_evicted_per_call: per(c.l1d),
      l2_user_lines_evicted_per_call: per(c.l2),
      l3_user_lines_evicted_per_call: per(c.l3),
    };
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function splitTotal(r: ReplayResult): number {
  const s = r.split;
  return s.user + s.userPollution + s.kernel + s.modeSwitch + s.idle;
}

/** Rows of prediction.csv: sync, then flexsc. */
export function predictionRows(machine: string, results: readonly ReplayResult[]): Row[] {
  const sync = results[0]!;
  return results.map((r) => {
    const all = splitTotal(r);
    const pct = (v: number) => (all > 0 ? (100 * v) / all : 0);
    return {
      mechanism: r.mechanism,
      machine,
      cores: r.cores,
      threads: r.threads,
      syscalls: r.syscalls,
      elapsed_ms: r.elapsedMs,
      elapsed_speedup: r.elapsedMs > 0 ? sync.elapsedMs / r.elapsedMs : 0,
      cpu_ms: r.cpuMs,
      cpu_speedup: r.cpuMs > 0 ? sync.cpuMs / r.cpuMs : 0,
      user_ipc: r.userIpc,
      kernel_ipc: r.kernelIpc,
      user_pct: pct(r.split.user),
      user_pollution_pct: pct(r.split.userPollution),
      kernel_pct: pct(r.split.kernel),
      mode_switch_pct: pct(r.split.modeSwitch),
      idle_pct: pct(r.split.idle),
      user_instructions: r.userInstructions,
      kernel_instructions: r.kernelInstructions,
    };
  });
}

const COMPONENTS = [
  ['user', 'user'],
  ['userPollution', 'user: pollution misses'],
  ['kernel', 'kernel'],
  ['modeSwitch', 'mode switches'],
] as const;

function chartSpec(title: string, subtitle: string, results: readonly ReplayResult[], ghz: number): ReturnType<typeof barChartSpec> {
  const data: Record<string, unknown>[] = [];
  for (const r of results) {
    for (const [key, label] of COMPONENTS) data.push({ component: label, mechanism: r.mechanism, core_ms: r.split[key] / (ghz * 1e6) });
  }
  return barChartSpec({
    title,
    subtitle,
    data,
    x: { field: 'component', title: 'where the CPU time goes' },
    group: { field: 'mechanism', title: 'mechanism' },
    y: { field: 'core_ms', title: 'CPU time (core-ms, all cores)' },
  });
}

const fmt = (v: number, d = 0) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

function describeTime(r: ReplayResult): string {
  const busy = r.split.user + r.split.userPollution + r.split.kernel + r.split.modeSwitch;
  const p = (v: number) => `${fmt(busy > 0 ? (100 * v) / busy : 0)} %`;
  return `user ${p(r.split.user)}, user misses on kernel-evicted lines ${p(r.split.userPollution)}, kernel ${p(r.split.kernel)}, mode switches ${p(r.split.modeSwitch)}`;
}

/** The one-paragraph summary printed on the terminal. */
export function summaryParagraph(rec: TraceRecording, plan: ReplayPlan, o: TraceOptions, results: readonly [ReplayResult, ReplayResult]): string {
  const [sync, flexsc] = results;
  const name = rec.files.length === 1 ? basename(rec.files[0]!) : `${rec.files.length} files (${basename(rec.files[0]!)}, …)`;
  const parts: string[] = [];
  const spanS = (rec.endUs - rec.startUs) / 1e6;
  const plural = (n: number, one: string, many: string) => `${fmt(n)} ${n === 1 ? one : many}`;
  parts.push(
    `${name}: ${fmt(rec.calls)} calls (${fmt(rec.pending)} pending at the end${rec.signals > 0 ? `, ${plural(rec.signals, 'signal', 'signals')}` : ''})` +
      (rec.truncated ? `; replayed the first ${fmt(rec.replayed)} (--max-calls ${o.maxCalls}; the counts in syscalls.csv cover all), made` : ',') +
      ` by ${plural(rec.threads.length, 'thread', 'threads')} in ${plural(rec.processes, 'process', 'processes')}${rec.timed ? ` over ${fmt(spanS, 2)} s of trace` : ''}` +
      (rec.stats.malformed > 0 ? `; skipped ${plural(rec.stats.malformed, 'malformed line', 'malformed lines')} (--lenient)` : '') +
      '.',
  );
  const userWork =
    plan.instructionsPerSyscall !== undefined
      ? `${fmt(plan.instructionsPerSyscall)} user instructions per gap`
      : plan.trust === 'durations'
        ? `recorded gaps at IPC ${plan.userIpc} and ${plan.ghz} GHz`
        : `strace's slowdown ${plan.slowdownSource === 'estimated' ? 'estimated at' : 'taken as'} ${fmt(plan.slowdown, 1)}×` +
          (plan.slowdownSource === 'estimated' && plan.medianGapUs !== undefined
            ? ` (the median gap of ${fmt(plan.medianGapUs, 1)} µs taken as ${fmt(REFERENCE_INSTRUCTIONS_PER_CALL)} user instructions at IPC ${plan.userIpc} and ${plan.ghz} GHz)`
            : '');
  const slept = rec.syscalls.reduce((s, c) => s + c.slept, 0);
  parts.push(
    `Trust ${plan.trust}: ${userWork}; ${fmt(slept)} calls slept` +
      (plan.waits === 'timeline' ? ` and wait for the moment they returned on the trace's timeline (compressed ${fmt(plan.slowdown, 1)}×)` : ' but do not wait (--waits none)') +
      '.',
  );
  const speed = sync.elapsedMs / flexsc.elapsedMs;
  const cpu = sync.cpuMs / flexsc.cpuMs;
  parts.push(
    `On ${o.machine} with ${sync.cores} cores, sync takes ${fmt(sync.elapsedMs, 3)} ms and FlexSC ${fmt(flexsc.elapsedMs, 3)} ms (speedup ${fmt(speed, 3)}×)` +
      ` using ${fmt(sync.cpuMs, 3)} and ${fmt(flexsc.cpuMs, 3)} core-ms of CPU (${cpu >= 1 ? `${fmt(cpu, 3)}× less` : `${fmt(1 / cpu, 3)}× more`} under FlexSC)` +
      (plan.waits === 'timeline' && sync.split.idle > 0.5 * splitTotal(sync) ? '; the replay mostly waits on the timeline, so the CPU time is the measure of the gain' : '') +
      '.',
  );
  parts.push(`User IPC ${fmt(sync.userIpc, 3)} → ${fmt(flexsc.userIpc, 3)}, kernel IPC ${fmt(sync.kernelIpc, 3)} → ${fmt(flexsc.kernelIpc, 3)}.`);
  parts.push(`Sync's CPU time: ${describeTime(sync)}; FlexSC's: ${describeTime(flexsc)}.`);
  const top = [...rec.syscalls].sort((a, b) => b.calls - a.calls || cmp(a.name, b.name)).slice(0, 5);
  parts.push(`Most frequent calls: ${top.map((s) => `${s.name} ${fmt((100 * s.calls) / rec.calls, 1)} %`).join(', ')}.`);
  const generic = rec.syscalls.filter((s) => [...s.kinds.keys()].some((k) => k.includes('~')));
  if (generic.length > 0) {
    const n = generic.reduce((s, c) => s + [...c.kinds.entries()].filter(([k]) => k.includes('~')).reduce((a, [, v]) => a + v, 0), 0);
    parts.push(`${fmt(n)} replayed calls of ${generic.length} names unknown to the catalog ran generic paths (kernel_path NAME~TEMPLATE in syscalls.csv).`);
  }
  for (const note of plan.notes) parts.push(`Note: ${note}.`);
  return parts.join(' ');
}

/** Runs the command (see the module comment); `write` prints the summary. */
export async function traceCommand(files: readonly string[], o: TraceOptions, write: (s: string) => void): Promise<void> {
  if (files.length === 0) throw new InputError('trace: expected at least one strace file');
  if (o.trust === 'durations' && (o.slowdown !== undefined || o.instructionsPerSyscall !== undefined)) {
    throw new InputError('--slowdown and --instructions-per-syscall apply to --trust mix only (--trust durations takes the recorded times as they are)');
  }
  const overrides = o.cores !== undefined ? [...o.set, `hw.cores=${o.cores}`] : o.set;
  const config: RunConfig = buildRunConfig(o.machine, overrides);
  const cores = config.hw.cores;
  const rec = await recordTrace(files, { lenient: o.lenient, maxCalls: o.maxCalls, waitThresholdUs: o.waitThresholdUs });
  if (rec.replayed === 0) {
    throw new InputError(`${files.join(', ')}: no system calls in the trace (expected strace -f -tt -T -yy output)`);
  }
  const planOptions = { trust: o.trust, waits: o.waits, userIpc: o.userIpc, slowdown: o.slowdown, instructionsPerSyscall: o.instructionsPerSyscall };
  const plan = planReplay(rec, config, planOptions);
  // Both mechanisms run with the same seed (common random numbers: differences are the mechanism's).
  const seed = pointSeed('trace', { cores }, o.seed);
  const results = await runBoth(rec, planOptions, config, { cores, seed }, o.jobs);
  const [sync, flexsc] = results;

  const syscallsCsv = toCsv(SYSCALL_COLUMNS, syscallRows(rec, sync), SYSCALL_PRECISION);
  const predictionCsv = toCsv(PREDICTION_COLUMNS, predictionRows(o.machine, results), PREDICTION_PRECISION);
  const label = rec.files.length === 1 ? basename(rec.files[0]!) : `${basename(rec.files[0]!)} and ${rec.files.length - 1} more`;
  const spec = chartSpec(
    `Trace replay: ${label}`,
    `${o.machine}, ${cores} cores: elapsed sync ${fmt(sync.elapsedMs, 2)} ms, FlexSC ${fmt(flexsc.elapsedMs, 2)} ms; CPU ${fmt(sync.cpuMs, 2)} vs ${fmt(flexsc.cpuMs, 2)} core-ms`,
    results,
    config.hw.ghz,
  );
  const chart = await renderChart(spec);
  const meta = {
    tool: 'flexsc-sim',
    version: toolVersion,
    command: 'trace',
    files: rec.files,
    machine: o.machine,
    overrides: o.set,
    cores,
    seed: o.seed,
    options: {
      trust: o.trust,
      waits: plan.waits,
      userIpc: o.userIpc,
      slowdown: o.slowdown ?? null,
      instructionsPerSyscall: o.instructionsPerSyscall ?? null,
      waitThresholdUs: o.waitThresholdUs,
      maxCalls: o.maxCalls,
      lenient: o.lenient,
    },
    replay: {
      slowdown: plan.slowdown,
      slowdownSource: plan.slowdownSource,
      medianGapUs: plan.medianGapUs ?? null,
      referenceInstructionsPerCall: REFERENCE_INSTRUCTIONS_PER_CALL,
      notes: plan.notes,
    },
    trace: {
      calls: rec.calls,
      replayed: rec.replayed,
      truncated: rec.truncated,
      pending: rec.pending,
      signals: rec.signals,
      threads: rec.threads.length,
      processes: rec.processes,
      spanUs: rec.endUs - rec.startUs,
      lines: rec.stats.lines,
      malformedLines: rec.stats.malformed,
      malformedExamples: rec.stats.malformedExamples,
    },
    flexscIssuedByCore: flexsc.issuedByCore ?? null,
    config,
  };

  writeFileAtomic(join(o.out, 'syscalls.csv'), syscallsCsv);
  writeFileAtomic(join(o.out, 'prediction.csv'), predictionCsv);
  writeFileAtomic(join(o.out, 'prediction.vl.json'), JSON.stringify(spec, null, 2) + '\n');
  writeFileAtomic(join(o.out, 'prediction.svg'), chart.svg);
  writeFileAtomic(join(o.out, 'prediction.png'), chart.png);
  writeFileAtomic(join(o.out, 'trace.meta.json'), JSON.stringify(meta, null, 2) + '\n');
  write(`${summaryParagraph(rec, plan, o, results)}\n`);
  write(`wrote ${join(o.out, '{syscalls.csv,prediction.csv,prediction.svg,prediction.png,prediction.vl.json,trace.meta.json}')}\n`);
}

// ---------------------------------------------------------------------------- options

function positive(what: string, integer: boolean, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= min || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`expected ${integer ? 'an integer' : 'a number'} greater than ${min} for ${what}`);
    }
    return n;
  };
}

function nonNegative(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number ≥ 0 for ${what}`);
    return n;
  };
}

function seedOf(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) throw new InvalidArgumentError(`expected an integer from 0 to ${0xffffffff}`);
  return Number(value);
}

/** Registers `flexsc-sim trace FILE...` on the CLI program. */
export function registerTraceCommand(program: Command, write: (s: string) => void): void {
  program
    .command('trace')
    .description('replay an strace recording (strace -f -tt -T -yy; plain, .gz or .xz; all -ff files) under sync and FlexSC and predict the difference')
    .argument('<files...>', 'strace output file(s); the per-tid files of -ff together')
    .option('--machine <name>', 'machine preset (see `flexsc-sim machines`)', 'nehalem-2010')
    .option('--cores <n>', "cores of the simulated machine (default: the preset's)", positive('--cores', true))
    .option('--out <dir>', 'output directory', 'results')
    .addOption(new Option('--seed <n>', 'random seed').default(1).argParser(seedOf))
    .option('--set <path=value>', 'override a configuration leaf, e.g. hw.l1d.sizeKiB=64 (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--lenient', 'skip (and count) malformed trace lines instead of failing on the first', false)
    .addOption(new Option('--trust <what>', 'what to take from the trace: the syscall mix and order (times in proportion), or the recorded durations as they are').choices(['mix', 'durations']).default('mix'))
    .addOption(new Option('--waits <mode>', "calls that slept wait for the trace's timeline, or never wait (a capacity bound)").choices(['timeline', 'none']).default('timeline'))
    .option('--user-ipc <x>', 'native user IPC of the traced program: converts user time into instructions', positive('--user-ipc', false), DEFAULT_USER_IPC)
    .option('--slowdown <s>', "strace's slowdown of the traced program (trust mix; default: estimated from the median gap)", positive('--slowdown', false))
    .option('--instructions-per-syscall <n>', 'a fixed number of user instructions before every call (trust mix)', nonNegative('--instructions-per-syscall'))
    .option('--wait-threshold-us <us>', 'a call that can block slept when its -T duration reached this', nonNegative('--wait-threshold-us'), DEFAULT_WAIT_THRESHOLD_US)
    .option('--max-calls <n>', 'replay at most the first N calls of the trace (all are counted)', positive('--max-calls', true), DEFAULT_MAX_CALLS)
    .option('--jobs <n>', 'run the two mechanisms in parallel (2) or one after the other (1)', positive('--jobs', true), Math.min(2, availableParallelism()))
    .action(async (files: string[], o: TraceOptions) => {
      await traceCommand(files, o, write);
    });
}
