/**
 * The measurement harness of the paper's Section 2 (DESIGN.md §5): a user program runs its
 * footprint on one core; every N user instructions a performance-counter overflow
 * interrupt fires, and its handler issues the system calls under study from inside the
 * kernel. So each measurement pays an exception entry and exit (not a syscall/sysret pair)
 * plus the handler's own small footprint — which is why a *null* call costs the user
 * hundreds of cycles in Fig. 2, far more than the 150-cycle mode switch.
 *
 * Everything is measured from modelled state: the evictions of the application's lines
 * are the kernel-filler/user-victim eviction counters of the arrays; IPC is instructions
 * over cycles.
 */
import { CacheArray, KERNEL, USER } from '../../hw/cache-array.js';
import type { Core } from '../../hw/core.js';
import { Machine } from '../../hw/machine.js';
import type { HwConfig } from '../../hw/machine-config.js';
import { createRandom, type SimRandom } from '../../model/engine.js';
import { AddressAllocator, FootprintRunner, type FootprintSpec, type Placement } from '../../model/footprint.js';
import { KERNEL_MISS_OVERLAP, SYSCALLS, type SyscallSpec } from '../../model/syscalls.js';
import type { UserProgram } from './user-footprints.js';

/** Segments are bounded so cores could interleave (DESIGN.md §5). */
export const MAX_SEGMENT_INSTRUCTIONS = 2000;

/**
 * The counter-overflow interrupt handler: reading and re-arming the PMU, the APIC EOI, and
 * the call into the syscall code. Estimate (the paper does not describe its handler):
 * a few hundred instructions over a handful of lines.
 */
export const PMU_HANDLER: FootprintSpec = {
  name: 'kernel/pmu-interrupt',
  mode: 'kernel',
  baseCpi: 1.5,
  mispredictsPerKilo: 5,
  missOverlap: KERNEL_MISS_OVERLAP,
  regions: [
    { name: 'code', side: 'code', scope: 'shared', lines: 10, pattern: 'pass' },
    { name: 'data', side: 'data', scope: 'shared', lines: 4, pattern: 'pass', huge: true },
  ],
};
const PMU_HANDLER_INSTRUCTIONS = 400;

export interface EvictionCounts {
  l1i: number;
  l1d: number;
  l2: number;
  l3: number;
  dtlb: number;
}

export interface CallMeasurement {
  name: string;
  instructions: number;
  cycles: number;
  /** Application (user) lines/entries evicted by this call's kernel execution. */
  evicted: EvictionCounts;
}

export class Section2Bench {
  readonly machine: Machine;
  readonly core: Core;
  private readonly rng: SimRandom;
  private readonly alloc: AddressAllocator;
  private readonly user: FootprintRunner;
  private readonly handler: FootprintRunner;
  private readonly kernel = new Map<string, FootprintRunner>();
  private readonly at: Placement = { space: 1, thread: 0, request: 0 };

  constructor(
    readonly hw: HwConfig,
    program: UserProgram,
    seed: number,
    private readonly syscalls: Readonly<Record<string, SyscallSpec>> = SYSCALLS,
    handler: FootprintSpec = PMU_HANDLER,
  ) {
    this.machine = new Machine(hw, { trackEvictors: true });
    this.core = this.machine.cores[0];
    this.rng = createRandom(seed);
    this.alloc = new AddressAllocator(hw.lineBytes, hw.pageBytes);
    this.user = this.runner(program.footprint);
    this.handler = this.runner(handler);
    // The paper's programs had run long before any measurement: their streams had long
    // filled the L3. Prime it with the program's own lines (one L3's worth).
    this.user.prime(this.core, this.at, (hw.l3.sizeKiB * 1024) / hw.lineBytes);
  }

  private runner(spec: FootprintSpec): FootprintRunner {
    return new FootprintRunner(spec, this.alloc, this.hw.lineBytes, this.hw.pageBytes, this.hw.hugePageBytes, this.hw.core.dataMissOverlap);
  }

  /** Runs `instructions` user instructions in bounded segments; returns their cycles. */
  runUser(instructions: number, segment = MAX_SEGMENT_INSTRUCTIONS): number {
    let cycles = 0;
    let left = instructions;
    while (left > 0) {
      const n = Math.min(segment, left);
      cycles += this.user.run(this.core, n, this.at, this.rng);
      left -= n;
    }
    return cycles;
  }

  /** One activation of a kernel footprint, split into bounded segments. */
  private runKernel(runner: FootprintRunner, instructions: number): number {
    const slices = Math.max(1, Math.ceil(instructions / MAX_SEGMENT_INSTRUCTIONS));
    let cycles = 0;
    for (let i = 0; i < slices; i++) {
      const from = i / slices;
      const to = (i + 1) / slices;
      const n = Math.round(instructions * to) - Math.round(instructions * from);
      cycles += runner.run(this.core, n, this.at, this.rng, { from, to });
    }
    return cycles;
  }

  private kernelRunner(name: string): { spec: SyscallSpec; runner: FootprintRunner } {
    const spec = this.syscalls[name];
    if (!spec) throw new Error(`unknown syscall '${name}'`);
    let runner = this.kernel.get(name);
    if (!runner) {
      runner = this.runner(spec.footprint);
      this.kernel.set(name, runner);
    }
    return { spec, runner };
  }

  private arrays(): Record<keyof EvictionCounts, CacheArray> {
    const c = this.machine.memory.cores[0];
    return { l1i: c.l1i, l1d: c.l1d, l2: c.l2, l3: this.machine.memory.l3, dtlb: c.dtlb };
  }

  private userEvictionsByKernel(): EvictionCounts {
    const a = this.arrays();
    const k = KERNEL * 2 + USER;
    return { l1i: a.l1i.evictions[k], l1d: a.l1d.evictions[k], l2: a.l2.evictions[k], l3: a.l3.evictions[k], dtlb: a.dtlb.evictions[k] };
  }

  /**
   * The counter-overflow interrupt: exception entry, the handler, each call in turn (each a
   * new request: per-call buffers are fresh), exception exit. Returns one measurement per call.
   */
  interrupt(calls: readonly string[]): CallMeasurement[] {
    const ms = this.machine.modeSwitch;
    ms.perform(this.core, KERNEL, 'exception');
    this.runKernel(this.handler, PMU_HANDLER_INSTRUCTIONS);
    const out: CallMeasurement[] = [];
    for (const name of calls) {
      const { spec, runner } = this.kernelRunner(name);
      this.at.request++;
      const before = this.userEvictionsByKernel();
      const cycles = this.runKernel(runner, spec.instructions);
      const after = this.userEvictionsByKernel();
      out.push({
        name,
        instructions: spec.instructions,
        cycles,
        evicted: {
          l1i: after.l1i - before.l1i,
          l1d: after.l1d - before.l1d,
          l2: after.l2 - before.l2,
          l3: after.l3 - before.l3,
          dtlb: after.dtlb - before.dtlb,
        },
      });
    }
    ms.perform(this.core, USER, 'exception');
    return out;
  }

  userInstructions(): number {
    return this.core.stack.event(USER, 'instructions');
  }

  /** All cycles charged to user mode so far (what a user-mode cycle counter reads). */
  userCycles(): number {
    return this.core.stack.modeCycles(USER);
  }
}
