/**
 * null-syscall: the direct cost of a system call on the chosen machine, with and without
 * kernel page-table isolation (KPTI).
 *
 * A user loop touches `user_pages` data pages (one line each) and a few code lines, then
 * issues a null system call: mode switch in, the kernel's entry stub (its code lines and a
 * per-CPU data line reached through the 2 MB direct map), mode switch out. The same loop
 * without the call is the baseline. Reported per call: the cycles of the round trip itself,
 * and the extra cycles the *user* code then spends because of the call — under KPTI
 * without PCID every switch flushes the TLB, so that cost grows with the pages the user
 * code touches; it is not an input, it comes out of the TLB arrays.
 *
 * Reproduces §2.1 of the paper: on its Nehalem a null syscall costs 79 cycles to enter and
 * 71 to leave (150 round trip), timed with rdtsc. Fig. 9 puts a whole synchronous getppid
 * at 129 cycles, which leaves 114 for the round trip proper: the preset keeps that (split
 * 79:71), so the model's round trip is 114 and §2.1's other 36 cycles are its timing
 * overhead (`hw.modeSwitch.entryCycles`' source says so). KPTI (2018) postdates the paper;
 * the modern rows extend it.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Experiment, Point, PointContext } from '../src/experiment.js';
import { KERNEL, USER } from '../src/hw/cache-array.js';
import { Machine } from '../src/hw/machine.js';
import type { HwConfig } from '../src/hw/machine-config.js';
import { KERNEL_SPACE } from '../src/hw/memory-system.js';
import { Entity, createSim, type SimKernel } from '../src/model/engine.js';
import type { Row } from '../src/report/csv.js';

const PAPER_ROUND_TRIP = 150; // §2.1: 79 cycles in + 71 cycles out, timed with rdtsc

/** Model addresses (physical-like, below 2^47). */
const USER_SPACE = 1;
const USER_TEXT = 0x0040_0000;
const USER_DATA = 0x1000_0000;
const KERNEL_TEXT = 0x0100_0000;
const KERNEL_PERCPU = 0x0400_0000;
/** The user loop's code and the kernel entry stub, in cache lines (small, loop-like). */
const USER_CODE_LINES = 4;
const KERNEL_ENTRY_LINES = 2;
/**
 * Instructions: a 1000-instruction user loop body at CPI 1. The kernel entry stub's
 * instructions are part of the measured entry/exit cycles (§2.1 timed the null call as a
 * whole), so its segment adds none of its own — only its line references, which can miss.
 */
const USER_INSTRUCTIONS = 1000;
const KERNEL_INSTRUCTIONS = 0;
const BASE_CPI = 1;

interface LoopResult {
  cyclesPerIteration: number;
  switchCyclesPerCall: number;
  kernelCyclesPerCall: number;
  userTlbMissesPerIteration: number;
}

/** Runs the loop on core 0 of a fresh machine, one simjs event per phase. */
function simulateLoop(hw: HwConfig, userPages: number, withSyscall: boolean, warmup: number, iterations: number): LoopResult {
  const machine = new Machine(hw);
  const core = machine.cores[0];
  const line = hw.lineBytes;
  const page = hw.pageBytes;
  const huge = hw.hugePageBytes;
  const sim: SimKernel = createSim();
  let measuredFrom = 0;
  let switchCycles = 0;
  let kernelCycles = 0;
  let userTlbAtStart = 0;

  const userSegment = (): number => {
    core.begin(USER, USER_SPACE, BASE_CPI);
    for (let i = 0; i < USER_CODE_LINES; i++) {
      const a = USER_TEXT + i * line;
      core.ifetch(a / line, Math.floor(a / page));
    }
    for (let p = 0; p < userPages; p++) {
      // One line per page, at a different offset in each page so the lines spread over sets.
      const a = USER_DATA + p * page + (p % (page / line)) * line;
      core.dref(a / line, Math.floor(a / page), false, false);
    }
    return core.end(USER_INSTRUCTIONS);
  };

  const nullCall = (): { switches: number; kernel: number } => {
    const before = core.now;
    const inCost = machine.modeSwitch.perform(core, KERNEL);
    core.begin(KERNEL, USER_SPACE, BASE_CPI);
    for (let i = 0; i < KERNEL_ENTRY_LINES; i++) {
      const a = KERNEL_TEXT + i * line;
      core.ifetch(a / line, Math.floor(a / page), KERNEL_SPACE);
    }
    core.dref(KERNEL_PERCPU / line, Math.floor(KERNEL_PERCPU / huge), true, false, KERNEL_SPACE);
    const kernel = core.end(KERNEL_INSTRUCTIONS);
    const outCost = machine.modeSwitch.perform(core, USER);
    const switches = inCost.direct + inCost.lostOverlap + outCost.direct + outCost.refill + outCost.lostOverlap;
    if (Math.abs(core.now - before - switches - kernel) > 1e-6) throw new Error('null-syscall: cycle accounting does not add up');
    return { switches, kernel };
  };

  class NullSyscallLoop extends Entity {
    private done = 0;
    start(): void {
      this.next();
    }
    private next(): void {
      if (this.done === warmup) {
        measuredFrom = core.now;
        userTlbAtStart = core.stack.event(USER, 'tlb_miss');
      }
      if (this.done === warmup + iterations) return;
      let cycles = userSegment();
      if (withSyscall) {
        const c = nullCall();
        cycles += c.switches + c.kernel;
        if (this.done >= warmup) {
          switchCycles += c.switches;
          kernelCycles += c.kernel;
        }
      }
      this.done++;
      this.setTimer(cycles).done(() => this.next());
    }
  }
  sim.addEntity(NullSyscallLoop, 'null-syscall-loop');
  sim.simulate(Infinity);
  if (Math.abs(sim.time() - core.now) > 1e-6) throw new Error('null-syscall: engine time and core time disagree');
  return {
    cyclesPerIteration: (core.now - measuredFrom) / iterations,
    switchCyclesPerCall: switchCycles / iterations,
    kernelCyclesPerCall: kernelCycles / iterations,
    userTlbMissesPerIteration: (core.stack.event(USER, 'tlb_miss') - userTlbAtStart) / iterations,
  };
}


export const nullSyscall: Experiment = {
  id: 'null-syscall',
  title: 'Direct cost of a null system call, with and without page-table isolation',
  reproduces: 'Section 2.1 (null syscall: 79 + 71 = 150 cycles); KPTI rows extend it',
  description:
    'A user loop touching N pages issues a null syscall each iteration. Reports the round trip (mode switches and entry stub) and the extra user cycles it causes, per KPTI mode; TLB refills after a flush emerge from the TLB arrays.',
  grid(quick: boolean): Point[] {
    const pages = quick ? [1, 16] : [1, 4, 16, 64];
    const points: Point[] = [];
    for (const kpti of ['off', 'pcid', 'nopcid']) for (const p of pages) points.push({ kpti, user_pages: p });
    return points;
  },
  columns: ['kpti', 'user_pages', 'round_trip_cycles', 'round_trip_ns', 'user_overhead_cycles', 'total_cycles_per_call', 'user_tlb_misses_per_call', 'paper_round_trip_cycles'],
  precision: { round_trip_cycles: 1, round_trip_ns: 2, user_overhead_cycles: 1, total_cycles_per_call: 1, user_tlb_misses_per_call: 2, paper_round_trip_cycles: 0 },
  run(point: Point, ctx: PointContext): Row[] {
    const hw: HwConfig = structuredClone(ctx.config.hw);
    hw.modeSwitch.kpti = point.kpti as HwConfig['modeSwitch']['kpti'];
    const pages = Number(point.user_pages);
    const warmup = 50;
    const iterations = ctx.quick ? 200 : 1000;
    const base = simulateLoop(hw, pages, false, warmup, iterations);
    const sys = simulateLoop(hw, pages, true, warmup, iterations);
    const roundTrip = sys.switchCyclesPerCall + sys.kernelCyclesPerCall;
    const total = sys.cyclesPerIteration - base.cyclesPerIteration;
    return [
      {
        kpti: String(point.kpti),
        user_pages: pages,
        round_trip_cycles: roundTrip,
        round_trip_ns: roundTrip / hw.ghz,
        user_overhead_cycles: total - roundTrip,
        total_cycles_per_call: total,
        user_tlb_misses_per_call: sys.userTlbMissesPerIteration - base.userTlbMissesPerIteration,
        paper_round_trip_cycles: PAPER_ROUND_TRIP,
      },
    ];
  },
  plot(rows: Row[], ctx): TopLevelSpec {
    return {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: { text: `Null syscall cost vs user pages touched (${ctx.machine})`, subtitle: 'dashed: paper §2.1 round trip on Nehalem (150 cycles)' },
      width: 420,
      height: 260,
      layer: [
        {
          data: { values: rows },
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'user_pages', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'user pages touched per iteration' },
            y: { field: 'total_cycles_per_call', type: 'quantitative', title: 'cycles per call (round trip + user overhead)' },
            color: { field: 'kpti', type: 'nominal', title: 'KPTI' },
          },
        },
        {
          data: { values: [{ paper: PAPER_ROUND_TRIP }] },
          mark: { type: 'rule', strokeDash: [6, 4], color: 'black' },
          encoding: { y: { field: 'paper', type: 'quantitative' } },
        },
      ],
    };
  },
  summarize(rows: Row[]): string[] {
    const off = rows.find((r) => r.kpti === 'off');
    if (!off) return [];
    return [
      `Round trip with KPTI off: ${Number(off.round_trip_cycles).toFixed(0)} cycles (paper §2.1: ${PAPER_ROUND_TRIP}, timed with rdtsc; Fig. 9's 129-cycle synchronous getppid leaves 114 for the switches themselves).`,
    ];
  },
};
