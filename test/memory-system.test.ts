import { expect } from 'chai';
import { KERNEL, USER } from '../src/hw/cache-array.js';
import { Core } from '../src/hw/core.js';
import { CAT } from '../src/hw/cycle-stack.js';
import { Machine } from '../src/hw/machine.js';
import { loadPreset, type HwConfig } from '../src/hw/machine-config.js';
import { KERNEL_SPACE, L1, L2, L3, MEM, REMOTE, TLB_L1, TLB_L2, TLB_WALK } from '../src/hw/memory-system.js';

function hw(mut: (h: HwConfig) => void = () => {}): HwConfig {
  const h = loadPreset('nehalem-2010').hw;
  h.prefetch.enabled = false;
  mut(h);
  return h;
}

describe('MemorySystem', () => {
  it('serves a cold line from memory, then L1; an L1-evicted line from L2', () => {
    const m = new Machine(hw()).memory;
    expect(m.data(0, 100, 1, USER, false)).to.equal(MEM);
    expect(m.data(0, 100, 1, USER, false)).to.equal(L1);
    // Evict line 100 from the 8-way, 64-set L1d with 8 conflicting lines.
    for (let i = 1; i <= 8; i++) m.data(0, 100 + i * 64, 1, USER, false);
    expect(m.data(0, 100, 1, USER, false)).to.equal(L2);
    // Another core finds it in the shared L3.
    expect(m.data(1, 100, 1, USER, false)).to.equal(L3);
  });

  it('inclusive L3: an L3 eviction back-invalidates the line in every core', () => {
    const h = hw((x) => {
      x.l3.sizeKiB = 64; // 64 sets × 16 ways
      x.l2.sizeKiB = 64; // 128 sets × 8 ways: the L2 itself would keep the line
    });
    const m = new Machine(h).memory;
    const l3Sets = m.l3.sets;
    m.data(0, 5, 1, USER, false);
    expect(m.cores[0].l2.find(5, 1)).to.be.greaterThan(-1);
    // 16 lines mapping to the same L3 set (from another core, so core 0's L1/L2 are untouched).
    for (let i = 1; i <= 16; i++) m.data(1, 5 + i * l3Sets, 1, USER, false);
    expect(m.l3.find(5, 1)).to.equal(-1);
    expect(m.cores[0].l1d.find(5, 1)).to.equal(-1);
    expect(m.cores[0].l2.find(5, 1)).to.equal(-1);
    expect(m.backInvalidations).to.be.greaterThan(0);
  });

  it('non-inclusive L3 is filled by L2 victims and never back-invalidates', () => {
    const h = hw((x) => {
      x.l3.inclusive = false;
    });
    const m = new Machine(h).memory;
    m.data(0, 7, 1, USER, false);
    expect(m.l3.find(7, 1)).to.equal(-1);
    const l2Sets = m.cores[0].l2.sets;
    for (let i = 1; i <= 8; i++) m.data(0, 7 + i * l2Sets, 1, USER, false);
    expect(m.l3.find(7, 1)).to.be.greaterThan(-1);
    expect(m.backInvalidations).to.equal(0);
  });

  it('a line written by one core is transferred to another core that reads it', () => {
    const m = new Machine(hw()).memory;
    m.data(0, 42, KERNEL_SPACE, KERNEL, true);
    expect(m.data(1, 42, KERNEL_SPACE, KERNEL, false)).to.equal(REMOTE);
    expect(m.transfers).to.equal(1);
    // Now shared and clean: core 1 hits in its L1, core 0 no longer holds it modified.
    expect(m.data(1, 42, KERNEL_SPACE, KERNEL, false)).to.equal(L1);
    expect(m.data(0, 42, KERNEL_SPACE, KERNEL, false)).to.equal(L1);
    // A write by core 1 invalidates core 0's copy; core 0's next read is a transfer.
    m.data(1, 42, KERNEL_SPACE, KERNEL, true);
    expect(m.cores[0].l1d.find(42, KERNEL_SPACE)).to.equal(-1);
    expect(m.data(0, 42, KERNEL_SPACE, KERNEL, false)).to.equal(REMOTE);
  });

  it('L2 prefetcher: adjacent line and a detected stream fill the L3 only', () => {
    const m = new Machine(hw((x) => (x.prefetch.enabled = true))).memory;
    const base = 64 * 1000; // line-aligned to a page (64 lines per 4 KB page)
    m.data(0, base, 1, USER, false);
    expect(m.l3.find(base + 1, 1)).to.be.greaterThan(-1); // adjacent line
    expect(m.cores[0].l2.find(base + 1, 1)).to.equal(-1); // fillLevel l3
    m.data(0, base + 2, 1, USER, false); // second miss in the page, ascending: a stream
    expect(m.l3.find(base + 3, 1)).to.be.greaterThan(-1);
    expect(m.l3.find(base + 4, 1)).to.be.greaterThan(-1); // streamDegree 2
    expect(m.data(0, base + 4, 1, USER, false)).to.equal(L3);
  });

  describe('TLBs and KPTI', () => {
    it('first level, then second level, then a walk', () => {
      const m = new Machine(hw()).memory;
      expect(m.translate(0, 10, false, false, USER, 1)).to.equal(TLB_WALK);
      expect(m.translate(0, 10, false, false, USER, 1)).to.equal(TLB_L1);
      for (let i = 1; i <= 4; i++) m.translate(0, 10 + i * 16, false, false, USER, 1); // 16 sets × 4 ways
      expect(m.translate(0, 10, false, false, USER, 1)).to.equal(TLB_L2);
    });

    it('without KPTI kernel mappings are global and survive a CR3 write', () => {
      const m = new Machine(hw()).memory;
      m.translate(0, 3, true, false, KERNEL, 1);
      m.translate(0, 10, false, false, USER, 1);
      m.flushTlbNonGlobal(0);
      expect(m.translate(0, 3, true, false, KERNEL, 1)).to.equal(TLB_L1);
      expect(m.translate(0, 10, false, false, USER, 1)).to.equal(TLB_WALK);
    });

    it('KPTI without PCID flushes the TLB at every mode switch; with PCID it does not', () => {
      for (const [kpti, expected] of [['nopcid', TLB_WALK], ['pcid', TLB_L1]] as const) {
        const machine = new Machine(hw((x) => (x.modeSwitch.kpti = kpti)));
        const core: Core = machine.cores[0];
        machine.memory.translate(0, 10, false, false, USER, 1);
        const cost = machine.modeSwitch.perform(core, KERNEL);
        expect(cost.tlbFlushed > 0).to.equal(kpti === 'nopcid');
        machine.modeSwitch.perform(core, USER);
        expect(machine.memory.translate(0, 10, false, false, USER, 1)).to.equal(expected);
      }
    });

    it('kernel mappings under KPTI are per process (not shared across spaces)', () => {
      const m = new Machine(hw((x) => (x.modeSwitch.kpti = 'pcid'))).memory;
      m.translate(0, 3, true, false, KERNEL, 1);
      expect(m.translate(0, 3, true, false, KERNEL, 2)).to.not.equal(TLB_L1);
      const off = new Machine(hw()).memory;
      off.translate(0, 3, true, false, KERNEL, 1);
      expect(off.translate(0, 3, true, false, KERNEL, 2)).to.equal(TLB_L1);
    });
  });
});

describe('Core timing and mode switch', () => {
  it('segment cycles = base + stalls, and the cycle stack sums to elapsed time', () => {
    const h = hw();
    const machine = new Machine(h);
    const core = machine.cores[0];
    core.begin(USER, 1, 1.0);
    core.dref(100, 1, false, false); // memory miss + TLB walk
    core.ifetch(200, 3); // memory miss + ITLB walk
    const cycles = core.end(1000);
    const expected = 1000 * 1.0 + h.memory.latency * (1 - h.core.dataMissOverlap) + h.memory.latency + 2 * h.tlb.walkLatency;
    expect(cycles).to.be.closeTo(expected, 1e-9);
    expect(core.now).to.be.closeTo(cycles, 1e-9);
    expect(core.stack.total()).to.be.closeTo(core.now, 1e-9);
    expect(core.stack.event(USER, 'l1d_miss')).to.equal(1);
    expect(core.stack.event(USER, 'l3_miss')).to.equal(2);
    // Both misses are cold ('other'), not pollution.
    expect(core.stack.get(USER, 'memory_other')).to.be.greaterThan(0);
    expect(core.stack.get(USER, 'memory_cross')).to.equal(0);
  });

  it('a mode switch charges entry/exit cycles and the lost overlap of the last window', () => {
    const h = hw();
    const machine = new Machine(h);
    const core = machine.cores[0];
    core.begin(USER, 1, 1);
    core.dref(100, 1, false, false);
    core.end(64); // shorter than the ROB: all hidden overlap is still in flight
    const hidden = h.memory.latency * h.core.dataMissOverlap;
    const cost = machine.modeSwitch.perform(core, KERNEL);
    expect(cost.direct).to.equal(h.modeSwitch.entryCycles);
    expect(cost.lostOverlap).to.be.closeTo(hidden, 1e-9);
    expect(core.stack.get(USER, 'lost_overlap')).to.be.closeTo(hidden, 1e-9);
    const back = machine.modeSwitch.perform(core, USER);
    expect(back.direct).to.equal(h.modeSwitch.exitCycles + h.modeSwitch.exitMitigationCycles);
    expect(back.refill).to.equal(h.modeSwitch.pipelineRefillCycles);
    expect(back.lostOverlap).to.equal(0);
    expect(core.stack.total()).to.be.closeTo(core.now, 1e-9);
  });

  it('KPTI adds a CR3 write in each direction', () => {
    const h = hw((x) => (x.modeSwitch.kpti = 'pcid'));
    const machine = new Machine(h);
    expect(machine.modeSwitch.directCycles(KERNEL)).to.equal(h.modeSwitch.entryCycles + h.modeSwitch.cr3WriteCycles);
  });

  it('misses on lines the kernel evicted are counted as cross-mode pollution', () => {
    const machine = new Machine(hw(), { trackEvictors: true });
    const core = machine.cores[0];
    const sets = machine.memory.cores[0].l1d.sets;
    core.begin(USER, 1, 1);
    for (let i = 0; i < 8; i++) core.dref(7 + i * sets, 0, false, false);
    core.end(100);
    core.begin(KERNEL, 1, 1);
    for (let i = 0; i < 8; i++) core.dref(7 + (100 + i) * sets, 0, false, false, KERNEL_SPACE);
    core.end(100);
    core.begin(USER, 1, 1);
    core.dref(7, 0, false, false);
    core.end(10);
    expect(core.stack.get(USER, 'l2_hit_cross')).to.equal(machine.hw.l2.latency * (1 - machine.hw.core.dataMissOverlap));
    expect(CAT.l2_hit_cross).to.be.a('number');
  });
});
