import { expect } from 'chai';
import { InputError } from '../src/errors.js';
import { loadPreset, presetNames } from '../src/hw/machine-config.js';
import { applyOverride, buildRunConfig, parseOverride } from '../src/run-config.js';

/** Paths of every leaf of a tree, e.g. hw.l1d.sizeKiB. */
function leaves(node: unknown, prefix: string): string[] {
  if (node === null || typeof node !== 'object') return [prefix];
  return Object.entries(node as Record<string, unknown>).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

describe('machine presets', () => {
  it('ships nehalem-2010 and at least one modern preset', () => {
    expect(presetNames()).to.include('nehalem-2010');
    expect(presetNames().length).to.be.at.least(2);
  });

  for (const name of presetNames()) {
    it(`${name}: validates, and every number has a source`, () => {
      const p = loadPreset(name);
      const paths = leaves({ hw: p.hw }, '');
      const missing = paths.filter((path) => !(path in p.sources));
      expect(missing, 'leaves without a source').to.deep.equal([]);
      const stale = Object.keys(p.sources).filter((s) => !paths.includes(s));
      expect(stale, 'sources for no leaf').to.deep.equal([]);
    });
  }

  it("nehalem-2010 holds the paper's Table 3 values (L2 as printed)", () => {
    const hw = loadPreset('nehalem-2010').hw;
    expect([hw.ghz, hw.cores, hw.lineBytes]).to.deep.equal([2.3, 4, 64]);
    expect([hw.l1i.sizeKiB, hw.l1d.sizeKiB, hw.l2.sizeKiB, hw.l3.sizeKiB]).to.deep.equal([32, 32, 512, 8192]);
    expect([hw.l1i.latency, hw.l1d.latency, hw.l2.latency, hw.memory.latency]).to.deep.equal([3, 4, 11, 250]);
    expect(hw.l3.latency).to.be.within(35, 40);
    expect([hw.tlb.l1d.entries, hw.tlb.l1i.entries, hw.tlb.l2.entries]).to.deep.equal([64, 64, 512]);
    expect([hw.modeSwitch.entryCycles, hw.modeSwitch.exitCycles]).to.deep.equal([60, 54]); // §2.1's 79:71 split of the 114 cycles Fig. 9 leaves
  });

  it('an unknown machine names the known ones', () => {
    expect(() => loadPreset('pentium-4')).to.throw(InputError, /unknown machine 'pentium-4'.*nehalem-2010/);
  });
});

describe('--set overrides', () => {
  it('overrides a numeric, boolean and enum leaf', () => {
    const c = buildRunConfig('nehalem-2010', ['hw.l1d.sizeKiB=64', 'hw.prefetch.enabled=false', 'hw.modeSwitch.kpti=nopcid']);
    expect(c.hw.l1d.sizeKiB).to.equal(64);
    expect(c.hw.prefetch.enabled).to.equal(false);
    expect(c.hw.modeSwitch.kpti).to.equal('nopcid');
    // The preset itself is untouched.
    expect(loadPreset('nehalem-2010').hw.l1d.sizeKiB).to.equal(32);
  });

  const bad: [string, RegExp][] = [
    ['hw.l1d.size=64', /--set hw\.l1d\.size: unknown key 'size'.*sizeKiB/],
    ['hw.l9.ways=4', /--set hw\.l9\.ways: unknown path/],
    ['hw.l1d=4', /is a section/],
    ['hw.l1d.ways=four', /hw\.l1d\.ways=four: expected a number/],
    ['hw.prefetch.enabled=yes', /expected true or false/],
    ['hw.l1d.ways=0', /hw\.l1d\.ways: Too small/],
    ['hw.l1d.ways=3', /hw\.l1d\.sizeKiB: 32 KiB is not a whole number of sets of 3 ways/],
    ['hw.lineBytes=48', /hw\.lineBytes: must be a power of two/],
    ['hw.modeSwitch.kpti=maybe', /hw\.modeSwitch\.kpti: Invalid option/],
    ['hw.cores=0', /hw\.cores: Too small/],
    ['hw.tlb.l1d.entries=66', /hw\.tlb\.l1d\.entries: 66 entries is not a multiple of 4 ways/],
    ['hw.core.dataMissOverlap=1.5', /hw\.core\.dataMissOverlap: Too big/],
    ['novalue', /expected path=value/],
  ];
  for (const [text, pattern] of bad) {
    it(`rejects ${text} naming the path`, () => {
      expect(() => buildRunConfig('nehalem-2010', [text])).to.throw(InputError, pattern);
    });
  }

  it('parses path=value with = in neither part ambiguous', () => {
    expect(parseOverride(' hw.ghz = 3 ')).to.deep.equal({ path: 'hw.ghz', value: '3' });
    const t = { a: { b: 1 } };
    applyOverride(t, { path: 'a.b', value: '2.5' });
    expect(t.a.b).to.equal(2.5);
  });
});
