/**
 * The paper's Section 2 measurements, run on the harness of `section2-bench.ts`.
 */
import type { HwConfig } from '../../hw/machine-config.js';
import { SYSCALLS, type SyscallSpec } from '../../model/syscalls.js';
import type { FootprintSpec } from '../../model/footprint.js';
import { Section2Bench } from './section2-bench.js';
import { XALAN, type UserProgram } from './user-footprints.js';

/** Table 1's rows: a label and the calls issued together. */
export const TABLE1_ROWS: readonly { label: string; calls: readonly string[] }[] = [
  { label: 'stat', calls: ['stat'] },
  { label: 'pread', calls: ['pread'] },
  { label: 'pwrite', calls: ['pwrite'] },
  { label: 'open+close', calls: ['open', 'close'] },
  { label: 'mmap+munmap', calls: ['mmap', 'munmap'] },
  { label: 'open+write+close', calls: ['open', 'write', 'close'] },
];

export interface Table1Row {
  syscall: string;
  instructions: number;
  cycles: number;
  ipc: number;
  icache_lines_evicted: number;
  dcache_lines_evicted: number;
  l2_lines_evicted: number;
  l3_lines_evicted: number;
  dtlb_entries_evicted: number;
}

export interface Table1Options {
  /** User instructions between two interrupts (the paper: 10 M). */
  gap: number;
  /** Measurements averaged per row. */
  repetitions: number;
  seed: number;
  program?: UserProgram;
  syscalls?: Readonly<Record<string, SyscallSpec>>;
}

/**
 * Table 1 by the paper's method: a Xalan-like program runs on one core and every `gap` user
 * instructions the counter-overflow interrupt issues one row's calls; each row is measured
 * `repetitions` times, always after `gap` instructions of user work (after one uncounted
 * round), counting only the application's lines and entries the calls' kernel execution
 * evicted.
 */
export function measureTable1(hw: HwConfig, opts: Table1Options): Table1Row[] {
  return TABLE1_ROWS.map((row) => measureTable1Row(hw, row, opts));
}

/** One row of Table 1, on a fresh machine (so rows are independent of each other). */
export function measureTable1Row(hw: HwConfig, row: { label: string; calls: readonly string[] }, opts: Table1Options): Table1Row {
  const bench = new Section2Bench(hw, opts.program ?? XALAN, opts.seed, opts.syscalls ?? SYSCALLS);
  const sum = { instructions: 0, cycles: 0, l1i: 0, l1d: 0, l2: 0, l3: 0, dtlb: 0 };
  // Steady state, as in the paper's repeated measurement: one uncounted round first, so
  // the calls' lines have been in the machine before (and aged out as they would).
  bench.runUser(opts.gap);
  bench.interrupt(row.calls);
  for (let r = 0; r < opts.repetitions; r++) {
    bench.runUser(opts.gap);
    for (const m of bench.interrupt(row.calls)) {
      sum.instructions += m.instructions;
      sum.cycles += m.cycles;
      sum.l1i += m.evicted.l1i;
      sum.l1d += m.evicted.l1d;
      sum.l2 += m.evicted.l2;
      sum.l3 += m.evicted.l3;
      sum.dtlb += m.evicted.dtlb;
    }
  }
  const n = opts.repetitions;
  return {
    syscall: row.label,
    instructions: sum.instructions / n,
    cycles: sum.cycles / n,
    ipc: sum.instructions / sum.cycles,
    icache_lines_evicted: sum.l1i / n,
    dcache_lines_evicted: sum.l1d / n,
    l2_lines_evicted: sum.l2 / n,
    l3_lines_evicted: sum.l3 / n,
    dtlb_entries_evicted: sum.dtlb / n,
  };
}

export interface SpacingOptions {
  seed: number;
  /** User instructions run before measuring (fills the caches with the program's lines). */
  warmup: number;
  /** Calls measured at least (the window also spans at least `minInstructions`). */
  minCalls: number;
  minInstructions: number;
  syscalls?: Readonly<Record<string, SyscallSpec>>;
  /** The interrupt handler's footprint (calibration tools); PMU_HANDLER by default. */
  handler?: FootprintSpec;
}

export interface SpacingResult {
  userIpc: number;
  kernelIpc: number;
  userInstructions: number;
  userCycles: number;
  /** The core's cycle stack per interval (`spacing` user instructions plus the calls), non-zero categories. */
  stackPerInterval: Record<string, number>;
}

/**
 * Runs `program` with the counter-overflow interrupt issuing `calls` every `spacing` user
 * instructions (no interrupt when `calls` is empty) and measures user IPC — user
 * instructions over the cycles a user-mode counter sees — and kernel IPC of the calls.
 */
export function measureSpacing(hw: HwConfig, program: UserProgram, spacing: number, calls: readonly string[], opts: SpacingOptions): SpacingResult {
  const bench = new Section2Bench(hw, program, opts.seed, opts.syscalls ?? SYSCALLS, opts.handler);
  bench.runUser(opts.warmup);
  const i0 = bench.userInstructions();
  const c0 = bench.userCycles();
  const stack0 = bench.core.stack.toRecord();
  let kInstructions = 0;
  let kCycles = 0;
  const n = Math.max(opts.minCalls, Math.ceil(opts.minInstructions / spacing));
  for (let i = 0; i < n; i++) {
    bench.runUser(spacing);
    if (calls.length === 0) continue;
    for (const m of bench.interrupt(calls)) {
      kInstructions += m.instructions;
      kCycles += m.cycles;
    }
  }
  const userInstructions = bench.userInstructions() - i0;
  const userCycles = bench.userCycles() - c0;
  const stack1 = bench.core.stack.toRecord();
  const stack: Record<string, number> = {};
  for (const k of Object.keys(stack1)) {
    const v = (stack1[k] - stack0[k]) / n;
    if (v !== 0) stack[k] = Math.round(v * 10) / 10;
  }
  return {
    userIpc: userInstructions / userCycles,
    kernelIpc: kCycles > 0 ? kInstructions / kCycles : 0,
    userInstructions,
    userCycles,
    stackPerInterval: stack,
  };
}

export interface WindowOptions {
  seed: number;
  warmup: number;
  /** User instructions between the isolated calls. */
  gap: number;
  /** Isolated calls averaged. */
  calls: number;
  /** Window width in user cycles. */
  window: number;
  /** Windows before the call and after it. */
  before: number;
  after: number;
  /** Granularity of user segments while windows are recorded (instructions). */
  step: number;
  handler?: FootprintSpec;
}

export interface WindowResult {
  /** Window start in user cycles (the call is issued at before × window). */
  cycles: number[];
  userIpc: number[];
}

export interface WindowSummary {
  /** Mean IPC of the windows before the call. */
  baseline: number;
  /** Lowest window IPC after the call. */
  minimum: number;
  /** User cycles lost in the windows after the call, against the baseline. */
  lost: number;
  /** IPC of the last window, relative to the baseline. */
  recovered: number;
}

/** Fig. 1's figures of merit from the window IPCs of `measureWindows`. */
export function summarizeWindows(userIpc: readonly number[], before: number, window: number): WindowSummary {
  const baseline = userIpc.slice(0, before).reduce((a, x) => a + x, 0) / before;
  const after = userIpc.slice(before);
  return {
    baseline,
    minimum: Math.min(...after),
    lost: after.reduce((a, x) => a + (1 - x / baseline) * window, 0),
    recovered: after[after.length - 1] / baseline,
  };
}

/**
 * Fig. 1's view: user IPC in windows of `window` user cycles around one isolated call,
 * averaged over `calls` calls issued `gap` instructions apart.
 */
export function measureWindows(hw: HwConfig, program: UserProgram, call: string, opts: WindowOptions): WindowResult {
  const bench = new Section2Bench(hw, program, opts.seed, SYSCALLS, opts.handler);
  bench.runUser(opts.warmup);
  const nWin = opts.before + opts.after;
  const sums = new Float64Array(nWin);
  const track = (untilCycles: number, points: number[][]) => {
    // Runs user code in `step`-instruction segments until `untilCycles` user cycles have
    // passed since the start of tracking; records (cycles, instructions) after each.
    const c0 = bench.userCycles();
    const i0 = bench.userInstructions();
    points.push([0, 0]);
    while (bench.userCycles() - c0 < untilCycles) {
      bench.runUser(opts.step, opts.step);
      points.push([bench.userCycles() - c0, bench.userInstructions() - i0]);
    }
  };
  const instrAt = (points: number[][], c: number): number => {
    let lo = 0;
    while (lo + 1 < points.length && points[lo + 1][0] <= c) lo++;
    if (lo + 1 >= points.length) return points[lo][1];
    const [c1, i1] = points[lo];
    const [c2, i2] = points[lo + 1];
    return i1 + ((i2 - i1) * (c - c1)) / (c2 - c1);
  };
  for (let k = 0; k < opts.calls; k++) {
    bench.runUser(opts.gap);
    // Windows before the call.
    const pre: number[][] = [];
    track(opts.before * opts.window, pre);
    const preEnd = pre[pre.length - 1][0];
    const shift = preEnd - opts.before * opts.window; // overshoot of the last segment
    for (let w = 0; w < opts.before; w++) {
      const a = shift + w * opts.window;
      sums[w] += (instrAt(pre, a + opts.window) - instrAt(pre, a)) / opts.window;
    }
    // The call: its user-side costs (exception entry, lost overlap) fall in the first window after it.
    const callC0 = bench.userCycles();
    bench.interrupt([call]);
    const switchCycles = bench.userCycles() - callC0;
    const post: number[][] = [];
    track(opts.after * opts.window - switchCycles, post);
    for (let w = 0; w < opts.after; w++) {
      const a = w * opts.window - switchCycles;
      const from = Math.max(0, a);
      sums[opts.before + w] += (instrAt(post, a + opts.window) - instrAt(post, from)) / opts.window;
    }
  }
  return {
    cycles: Array.from({ length: nWin }, (_, w) => w * opts.window),
    userIpc: Array.from(sums, (s) => s / opts.calls),
  };
}

/**
 * Fig. 4's baseline as this model states it: the kernel IPC of `call` issued back to back
 * from the interrupt handler with no user work in between (its lines warm). The kernel IPC
 * at a given spacing is `measureSpacing(...).kernelIpc`.
 */
export function measureWarmKernelIpc(hw: HwConfig, program: UserProgram, call: string, opts: { seed: number; warmup: number; calls: number }): number {
  const bench = new Section2Bench(hw, program, opts.seed);
  bench.runUser(opts.warmup);
  bench.interrupt([call]); // brings the call's lines in
  let instructions = 0;
  let cycles = 0;
  for (let i = 0; i < opts.calls; i++) {
    for (const m of bench.interrupt([call])) {
      instructions += m.instructions;
      cycles += m.cycles;
    }
  }
  return instructions / cycles;
}
