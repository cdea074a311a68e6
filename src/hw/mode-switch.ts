/**
 * The user↔kernel mode switch (DESIGN.md §4): its direct cost and its effect on the TLBs.
 *
 * Entry (syscall, exception, interrupt): `entryCycles`; under KPTI a CR3 write; without
 * PCID that write also drops every non-global translation.
 * Exit (sysret/iret): `exitCycles`, the pipeline refill after the serialising return, any
 * exit-time mitigation (e.g. MDS buffer clearing), and under KPTI another CR3 write (and
 * flush without PCID).
 * Both directions drain the out-of-order window, so the overlap that the previous segment's
 * outstanding data misses would have enjoyed is lost (`Core.pendingOverlap`).
 *
 * Everything after the switch — the cold caches, TLBs and branch state — is not charged
 * here: it emerges from the arrays when the next segment runs.
 */
import { KERNEL, USER, type ExecMode } from './cache-array.js';
import type { Core } from './core.js';
import { CAT, EV } from './cycle-stack.js';
import type { HwConfig } from './machine-config.js';

export interface SwitchCost {
  /** Cycles charged as mode_switch. */
  direct: number;
  /** Cycles charged as lost_overlap. */
  lostOverlap: number;
  /** Translations dropped by a CR3 write without PCID. */
  tlbFlushed: number;
}

export class ModeSwitch {
  constructor(private readonly hw: HwConfig) {}

  /** Cycles of the switch into `to`, excluding lost overlap and flushes. */
  directCycles(to: ExecMode): number {
    const ms = this.hw.modeSwitch;
    const cr3 = ms.kpti === 'off' ? 0 : ms.cr3WriteCycles;
    return to === KERNEL ? ms.entryCycles + cr3 : ms.exitCycles + ms.pipelineRefillCycles + ms.exitMitigationCycles + cr3;
  }

  /**
   * Switches `core` into mode `to`: charges the direct cost to the mode being left (as
   * hardware counters do for the instructions that perform it), the lost overlap, and
   * performs the TLB flush KPTI without PCID requires.
   */
  perform(core: Core, to: ExecMode): SwitchCost {
    const from: ExecMode = to === KERNEL ? USER : KERNEL;
    const direct = this.directCycles(to);
    core.charge(from, CAT.mode_switch, direct);
    const lost = core.pendingOverlap;
    core.pendingOverlap = 0;
    if (lost > 0) core.charge(from, CAT.lost_overlap, lost);
    core.stack.count(from, EV.mode_switches);
    let flushed = 0;
    if (this.hw.modeSwitch.kpti === 'nopcid') flushed = core.memory.flushTlbNonGlobal(core.id);
    return { direct, lostOverlap: lost, tlbFlushed: flushed };
  }
}
