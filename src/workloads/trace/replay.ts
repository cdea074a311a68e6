/**
 * Trace replay (DESIGN.md §7, "Traces"): an strace recording (`strace -f -tt -T -yy`; plain,
 * `.gz` or `.xz`; the per-tid files of `-ff` together) turned into one program per traced
 * thread and run on the OS model under both mechanisms — `sync` (an NPTL thread per traced
 * thread) and `flexsc` (FlexSC-Threads user threads) — on a chosen machine and core count.
 *
 * ## What a thread's program is
 *
 * Per traced thread, its calls in trace order; before each, the user work of the gap since
 * the thread's previous call returned, as `compute` instructions; each call runs its
 * catalog kernel path (`replay-calls.ts`: name and fd kind → path; unknown calls a generic
 * copy of a template's shape); a call whose `-T` duration shows it slept waits
 * (`replay-calls.ts` states which calls and the threshold). The user code is a generic
 * server-like profile: the Apache-like workload's footprint (`APACHE_FOOTPRINT`, hot and
 * warm code and data, a long data tail, a stack per thread), calibrated on Table 4's
 * Apache — not on the traced program, whose memory behaviour the trace does not show.
 *
 * ## What is trusted (strace slows the traced program heavily)
 *
 * Each call stops the tracee twice for the tracer, so every gap and every duration of the
 * trace is inflated — on the server recordings in `test/fixtures/strace/` 99 % of the gaps
 * exceed 16–49 µs, where native user code between two calls takes a few µs.
 *
 * - `trust: 'mix'` (default): the syscall mix and each thread's order of calls are trusted;
 *   times only in proportion. strace is taken to stretch the program's time by a factor
 *   `S` (the *slowdown*): a gap of `g` µs is `g / S` µs of native user work, which at
 *   `userIpc` (default 0.5, Table 4's Apache user IPC of 0.48) and the machine's clock is
 *   `userIpc × GHz × 1000 × g / S` instructions. `S` is given (`slowdown`) or estimated:
 *   the trace's median gap is taken to be one typical call's native user work,
 *   `REFERENCE_INSTRUCTIONS_PER_CALL` = 3,368 instructions (Table 2's Apache, the program
 *   whose footprint the replay uses), so `S = median gap ÷ (3,368 / (userIpc × GHz × 1000))`
 *   (at least 1: strace never speeds a program up). Or every gap is a fixed
 *   `instructionsPerSyscall`. The trace's timeline (when waits end, when threads appear) is
 *   compressed by the same `S`.
 * - `trust: 'durations'`: gaps and waits as recorded (`S = 1`): the program as strace slowed it.
 *
 * A gap that cannot be measured (a thread's first call, a call after one without a
 * duration) gets the median gap's instructions. A trace without timestamps has no gaps
 * and no timeline: every gap is `instructionsPerSyscall` (default 3,368) and waits are
 * dropped.
 *
 * ## Waits and the timeline
 *
 * - `waits: 'timeline'` (default): the world outside the program (clients, disks, timers,
 *   the other threads' wake-ups) keeps the trace's timeline. A call that slept waits on a
 *   channel that a timer posts at the moment the recorded call returned, mapped to the
 *   replay's clock (`(t − first call) / S`); a thread that gets there later does not wait.
 *   A call still in progress at the end waits until its thread's exit (if the trace shows
 *   it) or the end of the trace. So the replay is open-loop: when it keeps up with the
 *   timeline, elapsed time is the trace's (compressed) span and the mechanisms differ in
 *   CPU time; when it falls behind, they differ in elapsed time too.
 * - `waits: 'none'`: calls never sleep: the trace's work as fast as the machine runs it — a
 *   capacity bound (how much sooner the work is done when nothing makes it wait).
 *
 * ## Threads and processes
 *
 * A thread appears when it first does in the trace (on the replay's timeline) and not
 * before the call that created it (`clone`, `clone3`, `fork`, `vfork`) returned in its
 * parent's replay; it ends after its last call. A clone with `CLONE_THREAD` adds a thread to
 * its parent's process, other clones and forks start a process; threads whose creation is
 * not in the trace (strace attached to running processes) all belong to one process.
 * Under FlexSC each process has its own FlexSC-Threads runtime (a carrier per core).
 * Signals, page faults and network interrupts are not in the trace and not replayed.
 *
 * ## Memory
 *
 * The trace is streamed; the replayed calls are kept per thread in typed arrays (~30 bytes
 * a call), the first `maxCalls` of the trace (default 200 K, bounded by simulation time, not
 * memory). Calls beyond the cap are still
 * counted per syscall (`SyscallCount.calls`), not replayed, and `truncated` says so.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { KERNEL, USER } from '../../hw/cache-array.js';
import { CycleStack } from '../../hw/cycle-stack.js';
import { FlexscThreads } from '../../model/flexsc-threads.js';
import type { FootprintSpec } from '../../model/footprint.js';
import { Kernel, type Process, type Task } from '../../model/kernel.js';
import type { Action, SyscallRequest } from '../../model/program.js';
import { NptlThread } from '../../model/sync-path.js';
import { SYSCALLS, type SyscallSpec } from '../../model/syscalls.js';
import { WaitChannel } from '../../model/wait-channel.js';
import type { RunConfig } from '../../run-config.js';
import { APACHE_FOOTPRINT } from '../server/apache.js';
import { BLOCKED_THRESHOLD_US } from '../server/extract.js';
import type { Mechanism } from '../server/server.js';
import { argvOf, fdOfCall, genericSpec, kernelPathOf, slept } from './replay-calls.js';
import { readStrace, type StraceStats, type SyscallEvent } from './strace.js';

export type Trust = 'mix' | 'durations';
export type WaitMode = 'timeline' | 'none';
export type { Mechanism };

/** Table 2: Apache's user instructions per syscall (the scale of `trust: 'mix'`). */
export const REFERENCE_INSTRUCTIONS_PER_CALL = 3368;
/** Table 4: Apache's user IPC on the paper's Nehalem (0.48), rounded: the default rate. */
export const DEFAULT_USER_IPC = 0.5;
/**
 * Calls replayed by default. The hardware model simulates about 1 ms of host time per
 * replayed call and mechanism (≈ 5,000 user and kernel instructions a call) on this
 * project's machine, so 200 K calls take a few minutes per mechanism; memory is not the
 * limit (~30 bytes a call).
 */
export const DEFAULT_MAX_CALLS = 200_000;
export const DEFAULT_WAIT_THRESHOLD_US = BLOCKED_THRESHOLD_US;

/** The traced program's user footprint: the Apache-like profile (see the module comment). */
export const TRACE_FOOTPRINT: FootprintSpec = { ...APACHE_FOOTPRINT, name: 'traced-program' };

// ---------------------------------------------------------------------------- recording

/** The replayed calls of one traced thread, in order (growable typed arrays). */
export class ThreadLog {
  n = 0;
  name = new Uint16Array(16);
  kind = new Uint16Array(16);
  /** User time before the call (µs, as recorded; NaN when unknown). */
  gapUs = new Float64Array(16);
  /** When the recorded call slept, when it returned (µs; +Infinity: still in progress at the end); else NaN. */
  wakeUs = new Float64Array(16);
  /** First timestamp of the thread, and the time of its exit or kill event. */
  firstUs: number | undefined;
  endUs: number | undefined;
  /** Exit time (entry + duration) of the last call, for the next gap. */
  lastReturnUs: number | undefined;
  /** Calls (indices) that created threads: the child's log index, and whether it shares the process. */
  readonly clones: { call: number; child: number; sameProcess: boolean }[] = [];
  parent: { thread: number; call: number; sameProcess: boolean } | undefined;
  process = -1;

  constructor(
    readonly index: number,
    readonly tid: number,
  ) {}

  push(name: number, kind: number, gapUs: number, wakeUs: number): void {
    if (this.n === this.name.length) {
      const grow = <T extends Uint16Array | Float64Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.name = grow(this.name, (n) => new Uint16Array(n));
      this.kind = grow(this.kind, (n) => new Uint16Array(n));
      this.gapUs = grow(this.gapUs, (n) => new Float64Array(n));
      this.wakeUs = grow(this.wakeUs, (n) => new Float64Array(n));
    }
    const i = this.n++;
    this.name[i] = name;
    this.kind[i] = kind;
    this.gapUs[i] = gapUs;
    this.wakeUs[i] = wakeUs;
  }
}

/** Calls of one syscall name. */
export interface SyscallCount {
  name: string;
  /** Calls that entered the kernel within the trace (pending ones included), as the parser counts them. */
  calls: number;
  pending: number;
  /** Calls replayed (≤ calls when the trace was truncated). */
  replayed: number;
  /** Replayed calls that slept. */
  slept: number;
  /** Replayed calls per kernel path (catalog kind). */
  kinds: Map<string, number>;
}

export interface TraceRecording {
  files: readonly string[];
  /** Per syscall name, in order of first appearance. */
  syscalls: SyscallCount[];
  /** Catalog kinds by index (`ThreadLog.kind`). */
  kinds: string[];
  /** The syscall catalog with the generic paths of unknown calls added. */
  catalog: Record<string, SyscallSpec>;
  threads: ThreadLog[];
  processes: number;
  /** Calls in the trace, and replayed. */
  calls: number;
  replayed: number;
  pending: number;
  signals: number;
  truncated: boolean;
  maxCalls: number;
  /** Every replayed call has a timestamp. */
  timed: boolean;
  /** First call's entry and last call's return (µs), when timed. */
  startUs: number;
  endUs: number;
  /** Known gaps (µs), sorted. */
  gapsUs: Float64Array;
  waitThresholdUs: number;
  stats: StraceStats;
}

export interface RecordOptions {
  /** Skip (and count) malformed lines instead of failing on the first. */
  lenient?: boolean;
  /** Replay at most this many calls (the first of the trace). */
  maxCalls?: number;
  /** A call that can block slept when its -T duration reached this (µs). */
  waitThresholdUs?: number;
}

const CLONES = new Set(['clone', 'clone3', 'fork', 'vfork']);

/** Streams the trace into per-thread call logs (see the module comment). */
export async function recordTrace(files: string | readonly string[], opts: RecordOptions = {}): Promise<TraceRecording> {
  const list = typeof files === 'string' ? [files] : [...files];
  const maxCalls = opts.maxCalls ?? DEFAULT_MAX_CALLS;
  const threshold = opts.waitThresholdUs ?? DEFAULT_WAIT_THRESHOLD_US;
  const reader = readStrace(list, { lenient: opts.lenient ?? false });
  const catalog: Record<string, SyscallSpec> = { ...SYSCALLS };
  const syscalls: SyscallCount[] = [];
  const byName = new Map<string, number>();
  const kinds: string[] = [];
  const kindIndex = new Map<string, number>();
  const threads: ThreadLog[] = [];
  /** Current log of each tid. */
  const logOf = new Map<number, ThreadLog>();
  const logsOfTid = new Map<number, ThreadLog[]>();
  const pendingClones: { parent: ThreadLog; call: number; atUs: number | undefined; childTid: number; sameProcess: boolean }[] = [];
  let calls = 0;
  let replayed = 0;
  let pending = 0;
  let signals = 0;
  let timed = true;
  let startUs = Infinity;
  let endUs = -Infinity;
  const gaps: number[] = [];

  const log = (tid: number, timeUs: number | undefined, pendingCall: boolean): ThreadLog => {
    let t = logOf.get(tid);
    // A tid seen again after its thread exited is a new thread (tids are reused).
    if (t === undefined || (t.endUs !== undefined && !pendingCall && timeUs !== undefined && timeUs > t.endUs)) {
      t = new ThreadLog(threads.length, tid);
      threads.push(t);
      logOf.set(tid, t);
      const same = logsOfTid.get(tid);
      if (same === undefined) logsOfTid.set(tid, [t]);
      else same.push(t);
    }
    if (t.firstUs === undefined && timeUs !== undefined) t.firstUs = timeUs;
    return t;
  };
  const kindOf = (kind: string, template: string | undefined): number => {
    let k = kindIndex.get(kind);
    if (k === undefined) {
      if (template !== undefined && catalog[kind] === undefined) catalog[kind] = genericSpec(kind, template, catalog);
      k = kinds.length;
      kinds.push(kind);
      kindIndex.set(kind, k);
    }
    return k;
  };

  const add = (ev: SyscallEvent): void => {
    let ni = byName.get(ev.name);
    if (ni === undefined) {
      ni = syscalls.length;
      if (ni > 0xffff) throw new Error('more than 65,536 distinct syscall names');
      syscalls.push({ name: ev.name, calls: 0, pending: 0, replayed: 0, slept: 0, kinds: new Map() });
      byName.set(ev.name, ni);
    }
    const count = syscalls[ni]!;
    count.calls++;
    calls++;
    if (ev.pending) {
      count.pending++;
      pending++;
    }
    if (replayed >= maxCalls) return;
    replayed++;
    count.replayed++;
    const t = log(ev.tid, ev.timeUs, ev.pending);
    const argv = argvOf(ev);
    // restart_syscall resumes the call it names: that call's path.
    const pathName = ev.name === 'restart_syscall' && ev.restarted !== undefined ? ev.restarted : ev.name;
    const path = kernelPathOf(pathName, fdOfCall(pathName, argv, ev.retText), argv[0], catalog);
    const ki = kindOf(path.kind, path.template);
    count.kinds.set(path.kind, (count.kinds.get(path.kind) ?? 0) + 1);
    let gap = NaN;
    if (ev.timeUs === undefined) {
      timed = false;
    } else {
      if (t.lastReturnUs !== undefined) {
        gap = Math.max(0, ev.timeUs - t.lastReturnUs);
        gaps.push(gap);
      }
      startUs = Math.min(startUs, ev.timeUs);
      const ret = ev.durationUs !== undefined ? ev.timeUs + ev.durationUs : ev.timeUs;
      endUs = Math.max(endUs, ret);
    }
    t.lastReturnUs = ev.timeUs !== undefined && ev.durationUs !== undefined ? ev.timeUs + ev.durationUs : undefined;
    let wake = NaN;
    if (slept(ev, argv, threshold)) {
      count.slept++;
      wake = ev.pending || ev.timeUs === undefined || ev.durationUs === undefined ? Infinity : ev.timeUs + ev.durationUs;
    }
    t.push(ni, ki, gap, wake);
    if (CLONES.has(ev.name) && ev.child !== undefined) {
      const sameProcess = (ev.name === 'clone' || ev.name === 'clone3') && /CLONE_THREAD/.test(ev.args);
      pendingClones.push({ parent: t, call: t.n - 1, atUs: ev.timeUs, childTid: ev.child, sameProcess });
    }
  };

  for await (const batch of reader.batches()) {
    for (const ev of batch) {
      switch (ev.type) {
        case 'syscall':
          add(ev);
          break;
        case 'signal':
          if (!ev.stopped) signals++;
          break;
        case 'exit':
        case 'kill': {
          if (replayed < calls) break; // past the cap: not part of the replay
          const t = logOf.get(ev.tid);
          if (t !== undefined && ev.timeUs !== undefined) t.endUs = ev.timeUs;
          if (ev.timeUs !== undefined) endUs = Math.max(endUs, ev.timeUs);
          break;
        }
        case 'superseded':
          break;
      }
    }
  }

  // A clone's child: the first log of its tid not yet claimed that started at or after the clone's entry.
  for (const c of pendingClones) {
    const child = logsOfTid
      .get(c.childTid)
      ?.find((t) => t !== c.parent && t.parent === undefined && (c.atUs === undefined || t.firstUs === undefined || t.firstUs >= c.atUs));
    if (child === undefined) continue;
    child.parent = { thread: c.parent.index, call: c.call, sameProcess: c.sameProcess };
    c.parent.clones.push({ call: c.call, child: child.index, sameProcess: c.sameProcess });
  }
  const processes = assignProcesses(threads);
  const gapsUs = Float64Array.from(gaps).sort();
  if (!Number.isFinite(startUs)) startUs = 0;
  if (!Number.isFinite(endUs)) endUs = startUs;
  return {
    files: list,
    syscalls,
    kinds,
    catalog,
    threads,
    processes,
    calls,
    replayed,
    pending,
    signals,
    truncated: replayed < calls,
    maxCalls,
    timed: timed && replayed > 0,
    startUs,
    endUs,
    gapsUs,
    waitThresholdUs: threshold,
    stats: reader.stats,
  };
}

/** Process of every thread: its parent's for CLONE_THREAD children, a new one for other clones; process 0 for the rest. */
function assignProcesses(threads: ThreadLog[]): number {
  let next = 1;
  const resolve = (t: ThreadLog, depth: number): number => {
    if (t.process >= 0) return t.process;
    if (t.parent === undefined || depth > threads.length) t.process = 0;
    else if (t.parent.sameProcess) t.process = resolve(threads[t.parent.thread]!, depth + 1);
    else t.process = next++;
    return t.process;
  };
  for (const t of threads) resolve(t, 0);
  // Renumber in order of first use, so process ids do not depend on which process was resolved first.
  const order = new Map<number, number>();
  for (const t of threads) {
    if (!order.has(t.process)) order.set(t.process, order.size);
    t.process = order.get(t.process)!;
  }
  return order.size;
}

// ---------------------------------------------------------------------------- plan

export interface PlanOptions {
  trust?: Trust;
  waits?: WaitMode;
  /** User instructions per cycle of the traced program natively (default DEFAULT_USER_IPC). */
  userIpc?: number;
  /** strace's slowdown of the traced program (trust mix); estimated when absent. */
  slowdown?: number;
  /** A fixed number of user instructions per gap (trust mix), instead of the rate. */
  instructionsPerSyscall?: number;
}

/** How recorded times become instructions and replay cycles. */
export interface ReplayPlan {
  trust: Trust;
  waits: WaitMode;
  userIpc: number;
  ghz: number;
  /** Time compression of the trace (1 under trust durations). */
  slowdown: number;
  slowdownSource: 'estimated' | 'given' | 'trust durations' | 'no gaps';
  medianGapUs: number | undefined;
  instructionsPerSyscall: number | undefined;
  /** User instructions for a gap of `gapUs` (NaN: unknown, the median's). */
  instructions(gapUs: number): number;
  /** Replay cycles at trace time `us`. */
  cyclesAt(us: number): number;
  /** Notes on what was assumed (printed in the summary). */
  notes: string[];
}

export function planReplay(rec: TraceRecording, config: RunConfig, opts: PlanOptions = {}): ReplayPlan {
  const trust = opts.trust ?? 'mix';
  const userIpc = opts.userIpc ?? DEFAULT_USER_IPC;
  const ghz = config.hw.ghz;
  const perUs = userIpc * ghz * 1000;
  const notes: string[] = [];
  const g = rec.gapsUs;
  const median = g.length > 0 ? (g.length % 2 === 1 ? g[(g.length - 1) / 2]! : (g[g.length / 2 - 1]! + g[g.length / 2]!) / 2) : undefined;
  let waits = opts.waits ?? 'timeline';
  let fixed = opts.instructionsPerSyscall;
  if (trust === 'durations' && fixed !== undefined) throw new Error('instructionsPerSyscall applies to trust mix only');
  if (!rec.timed) {
    notes.push('the trace has no timestamps: every gap is a fixed number of user instructions and waits are dropped');
    fixed ??= REFERENCE_INSTRUCTIONS_PER_CALL;
    waits = 'none';
  }
  let slowdown: number;
  let slowdownSource: ReplayPlan['slowdownSource'];
  if (trust === 'durations') {
    slowdown = 1;
    slowdownSource = 'trust durations';
  } else if (opts.slowdown !== undefined) {
    slowdown = opts.slowdown;
    slowdownSource = 'given';
  } else if (median !== undefined && median > 0) {
    slowdown = Math.max(1, (median * perUs) / REFERENCE_INSTRUCTIONS_PER_CALL);
    slowdownSource = 'estimated';
  } else {
    slowdown = 1;
    slowdownSource = 'no gaps';
    if (rec.timed) notes.push('no thread made two timed calls: no gap to estimate the slowdown from (taken as 1)');
    fixed ??= REFERENCE_INSTRUCTIONS_PER_CALL;
  }
  const typical = median !== undefined ? (median * perUs) / slowdown : REFERENCE_INSTRUCTIONS_PER_CALL;
  const instructions =
    fixed !== undefined
      ? () => Math.round(fixed)
      : (gapUs: number) => Math.round(Number.isNaN(gapUs) ? typical : (gapUs * perUs) / slowdown);
  const start = rec.startUs;
  return {
    trust,
    waits,
    userIpc,
    ghz,
    slowdown,
    slowdownSource,
    medianGapUs: median,
    instructionsPerSyscall: fixed,
    instructions,
    cyclesAt: (us: number) => (Math.max(0, us - start) / slowdown) * ghz * 1000,
    notes,
  };
}

// ---------------------------------------------------------------------------- running

export interface ReplayRunOptions {
  mechanism: Mechanism;
  cores: number;
  seed: number;
}

/** Kernel-path cost of the calls of one syscall name (sync replay). */
export interface CallCost {
  calls: number;
  /** Cycles of the calls' kernel paths (mode switches and waits excluded). */
  cycles: number;
  instructions: number;
  /** User lines (entries) evicted by the calls' kernel execution, per array. */
  l1i: number;
  l1d: number;
  l2: number;
  l3: number;
}

/** Where the cores' cycles went (sum over cores). */
export interface TimeSplit {
  /** User mode, without mode switches and misses on lines the kernel evicted. */
  user: number;
  /** User misses on lines the kernel evicted (the indirect cost of pollution). */
  userPollution: number;
  /** Kernel mode, without mode switches. */
  kernel: number;
  /** Mode switches and the overlap they cost (the direct cost). */
  modeSwitch: number;
  idle: number;
}

export interface ReplayResult {
  mechanism: Mechanism;
  cores: number;
  /** When the last thread finished. */
  elapsedCycles: number;
  elapsedMs: number;
  /** Cycles the cores were not idle, summed over cores, in ms. */
  cpuMs: number;
  userIpc: number;
  kernelIpc: number;
  userInstructions: number;
  kernelInstructions: number;
  /** Calls that entered the kernel (trapped, or posted to a syscall page). */
  syscalls: number;
  split: TimeSplit;
  /** Per syscall name (index as in the recording); sync only. */
  costs: CallCost[] | undefined;
  /** FlexSC: entries issued per core (which cores ran kernel work). */
  issuedByCore: number[] | undefined;
  threads: number;
}

const EMPTY_COST = (): CallCost => ({ calls: 0, cycles: 0, instructions: 0, l1i: 0, l1d: 0, l2: 0, l3: 0 });

/** Per replayed thread: its program's state. */
interface ThreadRun {
  log: ThreadLog;
  /** Name index of the call being made (for the sync replay's per-call costs). */
  current: number;
  finished: boolean;
}

/** Runs the recording's programs under one mechanism (see the module comment). */
export function runReplay(rec: TraceRecording, plan: ReplayPlan, config: RunConfig, opts: ReplayRunOptions): ReplayResult {
  const cfg = structuredClone(config);
  cfg.hw.cores = opts.cores;
  const k = new Kernel({ config: cfg, seed: opts.seed, syscalls: rec.catalog });
  const timeline = plan.waits === 'timeline';
  const endOfTrace = rec.endUs;
  const procs: (Process | undefined)[] = new Array<Process | undefined>(rec.processes);
  const runtimes: (FlexscThreads | undefined)[] = new Array<FlexscThreads | undefined>(rec.processes);
  const runs: (ThreadRun | undefined)[] = new Array<ThreadRun | undefined>(rec.threads.length);
  const nptl: NptlThread[] = [];
  const byTask = new Map<Task, ThreadRun>();
  const costs = opts.mechanism === 'sync' ? rec.syscalls.map(EMPTY_COST) : undefined;
  let lastFinish = 0;
  let finished = 0;
  let started = 0;

  const processOf = (i: number): Process => {
    let p = procs[i];
    if (p === undefined) {
      p = k.createProcess(`traced${i}`, TRACE_FOOTPRINT);
      procs[i] = p;
    }
    return p;
  };

  function* program(run: ThreadRun): Generator<Action, void, undefined> {
    const t = run.log;
    const childrenOf = new Map<number, number[]>();
    for (const c of t.clones) childrenOf.set(c.call, [...(childrenOf.get(c.call) ?? []), c.child]);
    for (let i = 0; i < t.n; i++) {
      const instructions = plan.instructions(t.gapUs[i]!);
      if (instructions > 0) yield { kind: 'compute', instructions };
      const call: SyscallRequest = { name: rec.kinds[t.kind[i]!]! };
      const wake = t.wakeUs[i]!;
      if (timeline && !Number.isNaN(wake)) {
        const ch = new WaitChannel<Task>(call.name);
        const at = plan.cyclesAt(wake === Infinity ? (t.endUs ?? endOfTrace) : wake);
        k.at(Math.max(k.now, at), () => k.post(ch));
        call.wait = ch;
      }
      const children = childrenOf.get(i);
      if (children !== undefined) call.onDone = () => children.forEach(release);
      run.current = t.name[i]!;
      yield { kind: 'syscall', call };
    }
    run.finished = true;
    finished++;
    lastFinish = Math.max(lastFinish, k.now);
  }

  /** Conditions left before each thread starts (its creating call returned; its first appearance). */
  const gates = new Int32Array(rec.threads.length);
  const release = (i: number): void => {
    if (--gates[i] === 0) start(i);
  };
  const start = (i: number): void => {
    const log = rec.threads[i]!;
    const run: ThreadRun = { log, current: -1, finished: false };
    runs[i] = run;
    started++;
    const name = `tid${log.tid}`;
    const proc = processOf(log.process);
    if (opts.mechanism === 'sync') {
      const task = new NptlThread(k, name, proc, program(run), nptl.length % opts.cores);
      nptl.push(task);
      byTask.set(task, run);
      k.start(task);
    } else {
      let rt = runtimes[log.process];
      if (rt === undefined) {
        rt = new FlexscThreads(k, proc);
        runtimes[log.process] = rt;
      }
      rt.spawn(name, program(run));
    }
  };

  const immediate: number[] = [];
  for (const t of rec.threads) {
    if (t.n === 0) continue;
    let g = 0;
    const p = t.parent;
    if (p !== undefined && p.call < rec.threads[p.thread]!.n && rec.threads[p.thread]!.n > 0) g++;
    if (timeline && t.firstUs !== undefined) g++;
    gates[t.index] = g;
    if (g === 0) immediate.push(t.index);
    else if (timeline && t.firstUs !== undefined) k.at(plan.cyclesAt(t.firstUs), () => release(t.index));
  }
  // Processes (address spaces) in order of their first thread, whatever starts first.
  for (const t of rec.threads) if (t.n > 0) processOf(t.process);
  for (const i of immediate) start(i);
  if (costs !== undefined) instrument(k, rec, costs, byTask);

  k.run();
  k.checkCycleStacks();
  if (finished !== started || started !== rec.threads.filter((t) => t.n > 0).length) {
    throw new Error(`trace replay (${opts.mechanism}): ${finished} of ${started} started threads finished, ${rec.threads.filter((t) => t.n > 0).length} to start`);
  }

  const total = new CycleStack();
  for (const cpu of k.cpus) total.addFrom(cpu.core.stack);
  const get = (mode: number, cat: Parameters<CycleStack['get']>[1]) => total.get(mode, cat);
  const pollution = get(USER, 'l2_hit_cross') + get(USER, 'l3_hit_cross') + get(USER, 'memory_cross');
  const userSwitch = get(USER, 'mode_switch') + get(USER, 'lost_overlap');
  const kernelSwitch = get(KERNEL, 'mode_switch') + get(KERNEL, 'lost_overlap');
  const split: TimeSplit = {
    user: total.modeCycles(USER) - userSwitch - pollution,
    userPollution: pollution,
    kernel: total.modeCycles(KERNEL) - kernelSwitch,
    modeSwitch: userSwitch + kernelSwitch,
    idle: total.idle,
  };
  const cyclesPerMs = cfg.hw.ghz * 1e6;
  const syscalls = opts.mechanism === 'sync' ? nptl.reduce((s, t) => s + t.syscalls, 0) : runtimes.reduce((s, rt) => s + (rt?.fx.counts.posted ?? 0), 0);
  let issuedByCore: number[] | undefined;
  if (opts.mechanism === 'flexsc') {
    issuedByCore = new Array<number>(opts.cores).fill(0);
    for (const rt of runtimes) rt?.fx.counts.issuedByCore.forEach((n, c) => (issuedByCore![c]! += n));
    for (const rt of runtimes) rt?.fx.check();
  }
  return {
    mechanism: opts.mechanism,
    cores: opts.cores,
    elapsedCycles: lastFinish,
    elapsedMs: lastFinish / cyclesPerMs,
    cpuMs: (total.total() - total.idle) / cyclesPerMs,
    userIpc: total.ipc(USER),
    kernelIpc: total.ipc(KERNEL),
    userInstructions: total.event(USER, 'instructions'),
    kernelInstructions: total.event(KERNEL, 'instructions'),
    syscalls,
    split,
    costs,
    issuedByCore,
    threads: started,
  };
}

/**
 * Per-call costs of the synchronous replay: every kernel-path segment a traced call runs
 * is timed (the kernel's path observer), and the user lines it evicts counted from the
 * arrays' owner-aware eviction counters, and charged to the syscall the running thread is
 * making.
 */
function instrument(k: Kernel, rec: TraceRecording, costs: CallCost[], byTask: Map<Task, ThreadRun>): void {
  const kernelByUser = KERNEL * 2 + USER;
  let e1i = 0;
  let e1d = 0;
  let e2 = 0;
  let e3 = 0;
  k.pathObserver = {
    before(cpu) {
      const arrays = cpu.core.memory.cores[cpu.core.id]!;
      e1i = arrays.l1i.evictions[kernelByUser]!;
      e1d = arrays.l1d.evictions[kernelByUser]!;
      e2 = arrays.l2.evictions[kernelByUser]!;
      e3 = cpu.core.memory.l3.evictions[kernelByUser]!;
    },
    after(cpu, task, _path, cycles, instructions) {
      const r = byTask.get(task);
      if (r === undefined || r.current < 0) return;
      const arrays = cpu.core.memory.cores[cpu.core.id]!;
      const c = costs[r.current]!;
      c.cycles += cycles;
      c.instructions += instructions;
      c.l1i += arrays.l1i.evictions[kernelByUser]! - e1i;
      c.l1d += arrays.l1d.evictions[kernelByUser]! - e1d;
      c.l2 += arrays.l2.evictions[kernelByUser]! - e2;
      c.l3 += cpu.core.memory.l3.evictions[kernelByUser]! - e3;
    },
  };
  rec.syscalls.forEach((s, i) => (costs[i]!.calls = s.replayed));
}

// ---------------------------------------------------------------------------- both mechanisms

/** What a worker needs to run one mechanism's replay. */
export interface ReplayJob {
  recording: TraceRecording;
  plan: PlanOptions;
  config: RunConfig;
  run: ReplayRunOptions;
}

const WORKER = new URL('./replay-worker.js', import.meta.url);

function runInWorker(job: ReplayJob): { worker: Worker; result: Promise<ReplayResult> } {
  const worker = new Worker(WORKER, { workerData: job });
  const result = new Promise<ReplayResult>((resolve, reject) => {
    let r: ReplayResult | undefined;
    worker.once('message', (m: ReplayResult) => (r = m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (r !== undefined) resolve(r);
      else reject(new Error(`trace replay worker (${job.run.mechanism}) exited with code ${code} and no result`));
    });
  });
  // Keep a rejection from going unhandled while the other run goes on here.
  result.catch(() => undefined);
  return { worker, result };
}

/**
 * Replays the recording under sync and then FlexSC (in that order in the result). With
 * `jobs` ≥ 2 the FlexSC run goes to a worker thread while sync runs here; each run is a
 * pure function of its inputs, so the results do not depend on `jobs`. Running from
 * TypeScript sources (no compiled worker next to this module) both run here.
 */
export async function runBoth(rec: TraceRecording, planOptions: PlanOptions, config: RunConfig, run: Omit<ReplayRunOptions, 'mechanism'>, jobs = 1): Promise<[ReplayResult, ReplayResult]> {
  const plan = planReplay(rec, config, planOptions);
  const flexscJob: ReplayJob = { recording: rec, plan: planOptions, config, run: { ...run, mechanism: 'flexsc' } };
  if (jobs >= 2 && existsSync(fileURLToPath(WORKER))) {
    const flexsc = runInWorker(flexscJob);
    let sync: ReplayResult;
    try {
      sync = runReplay(rec, plan, config, { ...run, mechanism: 'sync' });
    } catch (err) {
      await flexsc.worker.terminate();
      throw err;
    }
    return [sync, await flexsc.result];
  }
  const sync = runReplay(rec, plan, config, { ...run, mechanism: 'sync' });
  return [sync, runReplay(rec, plan, config, { ...run, mechanism: 'flexsc' })];
}
