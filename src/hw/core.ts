/**
 * Interval timing of one core (DESIGN.md §4). Work is issued in *segments*: N
 * instructions in one mode whose line references go through the memory system. A
 * segment's cycles are
 *
 *   N × base CPI                       (the code path's own CPI; IPC is never an input)
 * + Σ instruction-miss latencies × (1 − code overlap)   (the front end stalls, except
 *                                      what fetching ahead hides on straight-line code)
 * + Σ data-miss latencies × (1 − overlap)   (memory-level parallelism hides a share; the
 *                                      share is a property of the code path)
 * + TLB second-level hits and walks
 * + cold branches (BTB misses) × mispredict penalty, and mispredicts the caller declares.
 *
 * The data-miss latency hidden by overlap in the last `robInstructions` of a segment is
 * remembered (at most one memory latency: the misses in flight finish in parallel): a mode
 * switch drains the window of outstanding misses, so that overlap is lost and charged at
 * the switch (`lost_overlap`).
 */
import type { ExecMode } from './cache-array.js';
import { CAT, CycleStack, EV } from './cycle-stack.js';
import { L1, L2, L3, MEM, REMOTE, TLB_L1, TLB_L2, type MemorySystem } from './memory-system.js';
import type { HwConfig } from './machine-config.js';

export class Core {
  readonly stack = new CycleStack();
  /** Current simulated time of this core, in cycles. */
  now = 0;

  private mode: ExecMode = 0;
  private space = 1;
  private baseCpi = 1;
  /** Stall cycles of the current segment (misses, TLB, branches). */
  private stall = 0;
  /** Data-miss latency hidden by overlap in the current segment. */
  private hidden = 0;
  /** Overlap hidden in the tail of the last segment, lost if a mode switch follows. */
  pendingOverlap = 0;
  private readonly lat: { l2: number; l3: number; mem: number; remote: number; stlb: number; walk: number; mispredict: number; rob: number };
  private readonly defaultOverlap: number;
  private overlap: number;
  /** The most latency a drain can wait for: the misses in flight finish together. */
  private readonly maxPending: number;

  constructor(
    readonly id: number,
    readonly memory: MemorySystem,
    hw: HwConfig,
  ) {
    this.lat = {
      l2: hw.l2.latency,
      l3: hw.l3.latency,
      mem: hw.memory.latency,
      remote: hw.coherence.transferLatency,
      stlb: hw.tlb.l2.latency,
      walk: hw.tlb.walkLatency,
      mispredict: hw.branch.mispredictPenalty,
      rob: hw.core.robInstructions,
    };
    this.defaultOverlap = hw.core.dataMissOverlap;
    this.overlap = this.defaultOverlap;
    this.maxPending = hw.memory.latency;
  }

  get currentMode(): ExecMode {
    return this.mode;
  }

  /**
   * Starts a segment of code running in `mode` for address space `space` at `baseCpi`.
   * `missOverlap` is the share of a data miss's latency the code path hides by memory-level
   * parallelism (a copy loop hides much, a pointer chase little); by default the machine's.
   */
  begin(mode: ExecMode, space: number, baseCpi: number, missOverlap = this.defaultOverlap): void {
    this.mode = mode;
    this.space = space;
    this.baseCpi = baseCpi;
    this.overlap = missOverlap;
    this.stall = 0;
    this.hidden = 0;
  }

  private missCategory(served: number): number {
    const cross = this.memory.lastEvictor >= 0 && this.memory.lastEvictor !== this.mode;
    switch (served) {
      case L2:
        return cross ? CAT.l2_hit_cross : CAT.l2_hit_other;
      case L3:
        return cross ? CAT.l3_hit_cross : CAT.l3_hit_other;
      case MEM:
        return cross ? CAT.memory_cross : CAT.memory_other;
      default:
        return CAT.remote;
    }
  }

  private latency(served: number): number {
    const l = this.lat;
    return served === L2 ? l.l2 : served === L3 ? l.l3 : served === MEM ? l.mem : l.remote;
  }

  private countMiss(served: number, l1Event: number): void {
    const s = this.stack;
    s.count(this.mode, l1Event);
    if (served === L3 || served === MEM || served === REMOTE) s.count(this.mode, EV.l2_miss);
    if (served === MEM) s.count(this.mode, EV.l3_miss);
  }

  /**
   * An instruction fetch of code line `line` on page `page` (4 KB pages). `overlap` is the
   * share of a miss's latency the front end hides by fetching ahead (0 by default: the
   * front end stalls).
   */
  ifetch(line: number, page: number, space = this.space, overlap = 0): void {
    const m = this.memory;
    const t = m.translate(this.id, page, false, true, this.mode, space);
    if (t !== TLB_L1) this.tlb(t);
    const served = m.fetch(this.id, line, space, this.mode);
    if (served === L1) return;
    this.countMiss(served, EV.l1i_miss);
    const cyc = this.latency(served) * (1 - overlap);
    this.stall += cyc;
    this.stack.add(this.mode, this.missCategory(served), cyc);
  }

  /**
   * A data reference to `line` on `page` (2 MB page number when `huge`). `overlap`
   * overrides the segment's miss overlap for this reference (a stream's misses overlap
   * more than a pointer chase's).
   */
  dref(line: number, page: number, huge: boolean, write: boolean, space = this.space, overlap = this.overlap): void {
    const m = this.memory;
    const t = m.translate(this.id, page, huge, false, this.mode, space);
    if (t !== TLB_L1) this.tlb(t);
    const served = m.data(this.id, line, space, this.mode, write);
    if (served === L1) return;
    this.countMiss(served, EV.l1d_miss);
    const full = this.latency(served);
    const charged = full * (1 - overlap);
    this.stall += charged;
    this.hidden += full - charged;
    this.stack.add(this.mode, this.missCategory(served), charged);
  }

  private tlb(t: number): void {
    const cyc = t === TLB_L2 ? this.lat.stlb : this.lat.walk;
    this.stall += cyc;
    this.stack.add(this.mode, CAT.tlb, cyc);
    this.stack.count(this.mode, EV.tlb_miss);
    if (t !== TLB_L2) this.stack.count(this.mode, EV.tlb_walk);
  }

  /** A branch site: a BTB miss is a misprediction. */
  branch(site: number, space = this.space): void {
    if (!this.memory.branch(this.id, site, space, this.mode)) this.mispredicts(1);
  }

  /** Mispredictions the code path itself incurs (its own data-dependent branches). */
  mispredicts(n: number): void {
    this.stall += n * this.lat.mispredict;
    this.stack.add(this.mode, CAT.branch, n * this.lat.mispredict);
    this.stack.count(this.mode, EV.branch_miss, n);
  }

  /**
   * Ends the segment after `instructions` instructions; returns its cycles (also added to
   * the stack) and advances the core's clock.
   */
  end(instructions: number): number {
    const base = instructions * this.baseCpi;
    this.stack.add(this.mode, CAT.base, base);
    this.stack.count(this.mode, EV.instructions, instructions);
    // References are spread evenly over the segment: the share issued in its last ROB
    // window is still in flight when it ends.
    const tail = instructions > 0 ? Math.min(1, this.lat.rob / instructions) : 1;
    // The misses in flight complete in parallel: draining them waits at most one memory
    // latency, however many fill buffers are busy.
    this.pendingOverlap = Math.min(this.hidden * tail, this.maxPending);
    const cycles = base + this.stall;
    this.now += cycles;
    return cycles;
  }

  /**
   * Charges cycles outside any segment (mode switches, lock waits) to the current mode
   * and advances the clock.
   */
  charge(mode: ExecMode, category: number, cycles: number): void {
    this.stack.add(mode, category, cycles);
    this.now += cycles;
  }

  /** Time with nothing to run. */
  idleUntil(time: number): void {
    if (time > this.now) {
      this.stack.idle += time - this.now;
      this.now = time;
    }
  }
}
