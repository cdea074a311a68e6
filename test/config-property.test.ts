/**
 * Property tests of the configuration layer (fast-check, fixed seeds): any valid
 * configuration round-trips through `--set` overrides unchanged, and any single corrupted
 * field is rejected with an error naming that field's path.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { InputError } from '../src/errors.js';
import { loadPreset } from '../src/hw/machine-config.js';
import { defaultOsConfig } from '../src/model/os-config.js';
import { buildRunConfig, type RunConfig } from '../src/run-config.js';

type Tree = Record<string, unknown>;

function leaves(node: unknown, prefix: string): [string, unknown][] {
  if (node === null || typeof node !== 'object') return [[prefix, node]];
  return Object.entries(node as Tree).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

function set(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const p of parts.slice(0, -1)) node = node[p] as Tree;
  node[parts[parts.length - 1]] = value;
}

const base = (): RunConfig => ({ hw: loadPreset('nehalem-2010').hw, os: defaultOsConfig() });
const pow2 = (lo: number, hi: number) => fc.integer({ min: lo, max: hi }).map((e) => 2 ** e);

/** Valid configurations: the preset with many leaves varied within every rule. */
const validConfig: fc.Arbitrary<RunConfig> = fc
  .record({
    ghz: fc.double({ min: 0.5, max: 5, noNaN: true }),
    cores: fc.integer({ min: 1, max: 16 }),
    lineBytes: pow2(5, 7),
    l1dWays: fc.constantFrom(1, 2, 4, 8, 16),
    l1dSets: pow2(3, 8),
    l2Ways: fc.constantFrom(4, 8, 16),
    l2Sets: pow2(6, 11),
    l3Ways: fc.constantFrom(8, 12, 16),
    l3Sets: pow2(8, 13),
    latency: fc.integer({ min: 1, max: 500 }),
    inclusive: fc.boolean(),
    tlbWays: fc.constantFrom(1, 2, 4),
    tlbSets: fc.integer({ min: 1, max: 64 }),
    kpti: fc.constantFrom('off', 'pcid', 'nopcid'),
    prefetch: fc.boolean(),
    degree: fc.integer({ min: 0, max: 64 }),
    overlap: fc.double({ min: 0, max: 1, noNaN: true }),
    pages: fc.integer({ min: 1, max: 64 }),
    preempt: fc.boolean(),
    exitCycles: fc.integer({ min: 0, max: 10_000 }),
    ablation: fc.boolean(),
  })
  .map((v) => {
    const c = base();
    const hw = c.hw;
    hw.ghz = v.ghz;
    hw.cores = v.cores;
    hw.lineBytes = v.lineBytes;
    hw.l1d = { ...hw.l1d, ways: v.l1dWays, sizeKiB: (v.l1dSets * v.l1dWays * v.lineBytes) / 1024 };
    hw.l2 = { ...hw.l2, ways: v.l2Ways, sizeKiB: (v.l2Sets * v.l2Ways * v.lineBytes) / 1024, latency: v.latency };
    hw.l3 = { ...hw.l3, ways: v.l3Ways, sizeKiB: (v.l3Sets * v.l3Ways * v.lineBytes) / 1024, inclusive: v.inclusive };
    hw.l1i = { ...hw.l1i, sizeKiB: (64 * hw.l1i.ways * v.lineBytes) / 1024 };
    hw.tlb.l1d = { ways: v.tlbWays, entries: v.tlbWays * v.tlbSets };
    hw.modeSwitch.kpti = v.kpti;
    hw.prefetch.enabled = v.prefetch;
    hw.prefetch.streamDegree = v.degree;
    hw.core.dataMissOverlap = v.overlap;
    hw.crossModeEviction = !v.ablation;
    c.os.flexsc.pagesPerCore = v.pages;
    c.os.flexsc.preemptOnWake = v.preempt;
    c.os.idle.exitCycles = v.exitCycles;
    c.os.flexsc.syscallCores = v.cores > 1 ? `0,${v.cores - 1}` : 'all';
    return c;
  });

/** The --set overrides that turn the preset into `c`. */
function overridesFor(c: RunConfig): string[] {
  return leaves(c, '').map(([path, value]) => `${path}=${String(value)}`);
}

describe('configuration properties', function () {
  this.timeout(120_000);

  it('any valid configuration round-trips through --set overrides', () => {
    fc.assert(
      fc.property(validConfig, (c) => {
        expect(buildRunConfig('nehalem-2010', overridesFor(c))).to.deep.equal(c);
      }),
      { seed: 20101004, numRuns: 200 },
    );
  });

  /** Every leaf of the configuration, with a value that breaks its rule. */
  const corruptions = (): fc.Arbitrary<[string, string]> => {
    const paths = leaves(base(), '');
    return fc.constantFrom(...paths).chain(([path, value]) => {
      if (typeof value === 'boolean') return fc.constant<[string, string]>([path, 'maybe']);
      if (typeof value === 'string') return fc.constantFrom<[string, string]>([path, 'not-an-option'], [path, '']);
      // Numbers: out of range on either side, not a number, or (for whole numbers) a fraction.
      return fc.constantFrom<[string, string]>([path, '1e12'], [path, '-1'], [path, 'abc'], [path, 'NaN']);
    });
  };

  it('any single corrupted field is rejected, naming that field', () => {
    fc.assert(
      fc.property(corruptions(), ([path, bad]) => {
        let error: unknown;
        try {
          buildRunConfig('nehalem-2010', [`${path}=${bad}`]);
        } catch (e) {
          error = e;
        }
        // An empty string is not a valid path=value; everything else must name the path.
        expect(error, `${path}=${bad} was accepted`).to.be.instanceOf(InputError);
        const message = (error as Error).message;
        if (bad === '') expect(message).to.match(/expected path=value/);
        else expect(message, message).to.include(path);
      }),
      { seed: 1010, numRuns: 300 },
    );
  });

  it('every leaf is covered by the corruption property (no field left out)', () => {
    // A field whose rule accepts all of the corruptions above would slip through unnoticed.
    for (const [path, value] of leaves(base(), '')) {
      const bad = typeof value === 'boolean' ? 'maybe' : typeof value === 'string' ? 'not-an-option' : '1e12';
      expect(() => buildRunConfig('nehalem-2010', [`${path}=${bad}`]), path).to.throw(InputError, path);
    }
  });
});
