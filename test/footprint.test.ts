import { expect } from 'chai';
import { KERNEL, USER } from '../src/hw/cache-array.js';
import { Machine } from '../src/hw/machine.js';
import { loadPreset } from '../src/hw/machine-config.js';
import { createRandom } from '../src/model/engine.js';
import { AddressAllocator, FootprintRunner, type FootprintSpec } from '../src/model/footprint.js';

function setup(spec: FootprintSpec) {
  const hw = loadPreset('nehalem-2010').hw;
  hw.prefetch.enabled = false;
  const machine = new Machine(hw);
  const alloc = new AddressAllocator(hw.lineBytes, hw.pageBytes);
  const runner = new FootprintRunner(spec, alloc, hw.lineBytes, hw.pageBytes, hw.hugePageBytes);
  return { machine, core: machine.cores[0], runner, rng: createRandom(1) };
}

describe('footprints', () => {
  it('a pass region touches each of its lines once per activation, in the kernel space', () => {
    const { machine, core, runner, rng } = setup({
      name: 'k',
      mode: 'kernel',
      baseCpi: 2,
      mispredictsPerKilo: 0,
      regions: [
        { name: 'code', side: 'code', scope: 'shared', lines: 10, pattern: 'pass' },
        { name: 'objs', side: 'data', scope: 'shared', lines: 5, pattern: 'pass', strideLines: 64, huge: true },
      ],
    });
    const cycles = runner.run(core, 1000, { space: 1, thread: 0, request: 0 }, rng);
    expect(core.stack.event(KERNEL, 'l1i_miss')).to.equal(10);
    expect(core.stack.event(KERNEL, 'l1d_miss')).to.equal(5);
    // Page-strided objects all map to one L1d set (64 sets × 64 B = 4 KB).
    const l1d = machine.memory.cores[0].l1d;
    expect(l1d.countOwned(KERNEL, 0)).to.equal(5);
    expect(cycles).to.be.greaterThan(2000);
    // Second activation: all hits.
    runner.run(core, 1000, { space: 1, thread: 0, request: 0 }, rng);
    expect(core.stack.event(KERNEL, 'l1i_miss')).to.equal(10);
    expect(core.stack.event(KERNEL, 'instructions')).to.equal(2000);
  });

  it('rates are honoured with fractions carried; sequential cursors persist', () => {
    const { core, runner, rng } = setup({
      name: 'u',
      mode: 'user',
      baseCpi: 1,
      mispredictsPerKilo: 2.5,
      regions: [{ name: 'stream', side: 'data', scope: 'process', lines: 1000, pattern: 'sequential', refsPerKilo: 3.5 }],
    });
    for (let i = 0; i < 4; i++) runner.run(core, 1000, { space: 1, thread: 0, request: 0 }, rng);
    expect(core.stack.event(USER, 'l1d_miss')).to.equal(14); // 4 × 3.5, each a new line
    expect(core.stack.event(USER, 'branch_miss')).to.equal(10);
  });

  it('thread- and request-scoped regions are distinct instances; shared ones are not', () => {
    const spec: FootprintSpec = {
      name: 'u',
      mode: 'user',
      baseCpi: 1,
      mispredictsPerKilo: 0,
      regions: [
        { name: 'stack', side: 'data', scope: 'thread', lines: 4, pattern: 'pass' },
        { name: 'text', side: 'code', scope: 'shared', lines: 4, pattern: 'pass' },
      ],
    };
    const { core, runner, rng } = setup(spec);
    runner.run(core, 100, { space: 1, thread: 0, request: 0 }, rng);
    runner.run(core, 100, { space: 1, thread: 1, request: 0 }, rng);
    expect(core.stack.event(USER, 'l1d_miss')).to.equal(8); // two stacks
    expect(core.stack.event(USER, 'l1i_miss')).to.equal(4); // one text
  });

  it('uniform references are reproducible for a seed', () => {
    const spec: FootprintSpec = {
      name: 'u',
      mode: 'user',
      baseCpi: 1,
      mispredictsPerKilo: 0,
      regions: [{ name: 'heap', side: 'data', scope: 'process', lines: 100000, pattern: 'uniform', refsPerKilo: 50 }],
    };
    const a = setup(spec);
    const b = setup(spec);
    const ca = a.runner.run(a.core, 2000, { space: 1, thread: 0, request: 0 }, createRandom(5));
    const cb = b.runner.run(b.core, 2000, { space: 1, thread: 0, request: 0 }, createRandom(5));
    expect(ca).to.equal(cb);
    expect(a.core.stack.event(USER, 'l1d_miss')).to.be.within(90, 100);
  });
});
