/**
 * The user↔kernel mode switch (DESIGN.md §4): its direct cost and its effect on the TLBs.
 *
 * Two kinds of kernel entry exist: a `syscall` instruction (entry `entryCycles`, return by
 * sysret `exitCycles`) and an `exception` — an interrupt or fault delivered through the
 * IDT (`exceptionEntryCycles`, return by iret `exceptionExitCycles`).
 *
 * Accounting follows the hardware counters: the cycles of a switch are charged to the mode
 * being left (the interrupted/returning code pays for its drain), the pipeline refill after
 * a return is charged to the mode resumed, and so is nothing else — the cold caches, TLBs
 * and branch state that follow emerge from the arrays when the next segment runs.
 *
 * Under KPTI each direction writes CR3 (`cr3WriteCycles`); without PCID the write also drops
 * every non-global translation. Exit-time mitigations (e.g. MDS buffer clearing) add
 * `exitMitigationCycles`. Both directions drain the out-of-order window, so the overlap the
 * previous segment's outstanding data misses would have enjoyed is lost
 * (`Core.pendingOverlap`, charged as lost_overlap to the mode being left).
 */
import { KERNEL, USER, type ExecMode } from './cache-array.js';
import type { Core } from './core.js';
import { CAT, EV } from './cycle-stack.js';
import type { HwConfig } from './machine-config.js';

export type EntryKind = 'syscall' | 'exception';

export interface SwitchCost {
  /** Cycles charged as mode_switch to the mode being left. */
  direct: number;
  /** Pipeline refill charged as mode_switch to the mode entered (returns only). */
  refill: number;
  /** Cycles charged as lost_overlap. */
  lostOverlap: number;
  /** Translations dropped by a CR3 write without PCID. */
  tlbFlushed: number;
}

export class ModeSwitch {
  constructor(private readonly hw: HwConfig) {}

  /** Cycles of the switch into `to` charged to the mode being left (no refill, overlap or flush). */
  directCycles(to: ExecMode, kind: EntryKind = 'syscall'): number {
    const ms = this.hw.modeSwitch;
    const cr3 = ms.kpti === 'off' ? 0 : ms.cr3WriteCycles;
    if (to === KERNEL) return (kind === 'syscall' ? ms.entryCycles : ms.exceptionEntryCycles) + cr3;
    return (kind === 'syscall' ? ms.exitCycles : ms.exceptionExitCycles) + ms.exitMitigationCycles + cr3;
  }

  /** Switches `core` into mode `to` and charges the costs (see the module comment). */
  perform(core: Core, to: ExecMode, kind: EntryKind = 'syscall'): SwitchCost {
    const from: ExecMode = to === KERNEL ? USER : KERNEL;
    const direct = this.directCycles(to, kind);
    core.charge(from, CAT.mode_switch, direct);
    const lost = core.pendingOverlap;
    core.pendingOverlap = 0;
    if (lost > 0) core.charge(from, CAT.lost_overlap, lost);
    const refill = to === USER ? this.hw.modeSwitch.pipelineRefillCycles : 0;
    if (refill > 0) core.charge(to, CAT.mode_switch, refill);
    core.stack.count(from, EV.mode_switches);
    let flushed = 0;
    if (this.hw.modeSwitch.kpti === 'nopcid') flushed = core.memory.flushTlbNonGlobal(core.id);
    return { direct, refill, lostOverlap: lost, tlbFlushed: flushed };
  }
}
