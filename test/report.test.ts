import { expect } from 'chai';
import { formatNumber, toCsv } from '../src/report/csv.js';
import { loadReference } from '../src/report/reference.js';
import { pointSeed } from '../src/seed.js';
import { trendPct } from '../src/report/stats.js';
import { driftUnclear, drifting, slowDrift } from '../src/workloads/server/closed-loop.js';

describe('CSV output', () => {
  it('prints numbers with fixed precision, no exponent, no negative zero', () => {
    expect(formatNumber(1 / 3, 3, 'x')).to.equal('0.333');
    expect(formatNumber(-0.0001, 2, 'x')).to.equal('0.00');
    expect(formatNumber(1e21, 0, 'x')).to.equal('1e+21'); // toFixed's own limit; documented
    expect(() => formatNumber(NaN, 2, 'ipc')).to.throw(/column ipc: value NaN/);
    expect(() => formatNumber(Infinity, 2, 'ipc')).to.throw(/not a finite number/);
  });

  it('writes the header and rows in the given order, quoting where needed', () => {
    const csv = toCsv(['a', 'b'], [{ a: 'x,y', b: 2.5 }, { a: 'z', b: 1 }], { b: 1 });
    expect(csv).to.equal('a,b\n"x,y",2.5\nz,1.0\n');
    expect(() => toCsv(['a', 'c'], [{ a: 1 }], {})).to.throw(/missing column c/);
  });
});

describe('seeds and reference data', () => {
  it('derives a stable per-point seed independent of key order', () => {
    const s = pointSeed('fig2', { a: 1, b: 'x' }, 1);
    expect(pointSeed('fig2', { b: 'x', a: 1 }, 1)).to.equal(s);
    expect(pointSeed('fig2', { a: 2, b: 'x' }, 1)).to.not.equal(s);
    expect(pointSeed('fig3', { a: 1, b: 'x' }, 1)).to.not.equal(s);
    expect(pointSeed('fig2', { a: 1, b: 'x' }, 2)).to.not.equal(s);
    expect(s).to.be.within(0, 0xffffffff);
  });

  it('reads the in-repo copy of the paper data with numbers typed', () => {
    const t1 = loadReference('table1-syscall-footprint.csv');
    expect(t1).to.have.length(6);
    expect(t1[0]).to.include({ syscall: 'stat', instructions: 4972, ipc: 0.37 });
  });
});

describe('trend of batch means', () => {
  it('a straight line is its own trend: the drift is first to last over the mean, with no spread', () => {
    const line = Array.from({ length: 10 }, (_x, i) => 100 - (20 * i) / 9); // 100 … 80, mean 90
    const t = trendPct(line);
    expect(t.driftPct).to.be.closeTo((-20 / 90) * 100, 1e-9);
    expect(t.halfWidthPct).to.be.closeTo(0, 1e-9);
  });

  it('a flat series with noise has a drift its interval covers; a noisy ramp has one it excludes', () => {
    const noise = [1.2, -0.8, 0.3, -1.1, 0.9, -0.2, 0.6, -1.0, 0.4, -0.3];
    const flat = trendPct(noise.map((e) => 100 + e));
    expect(Math.abs(flat.driftPct)).to.be.below(flat.halfWidthPct);
    const ramp = trendPct(noise.map((e, i) => 100 - 2 * i + e));
    expect(ramp.driftPct).to.be.below(-15);
    expect(Math.abs(ramp.driftPct)).to.be.above(ramp.halfWidthPct);
    expect(() => trendPct([1, 2])).to.throw(RangeError);
  });

  it('the window rule: a drift over 3 % that its interval excludes restarts; a significant one of 1–3 % is only a slow drift', () => {
    // The first window of Apache-like, 4 cores, 768 clients, FlexSC, seed 1 (per Mcycle).
    const t = trendPct([18.41, 18.26, 18.51, 18.07, 18.46, 18.11, 18.23, 17.88, 18.25, 17.82]);
    expect(t.driftPct).to.be.closeTo(-2.52, 0.01);
    expect(t.halfWidthPct).to.be.closeTo(2.32, 0.01);
    expect([drifting(t), slowDrift(t)]).to.deep.equal([false, true]);
    expect([drifting({ driftPct: -4, halfWidthPct: 1 }), slowDrift({ driftPct: -4, halfWidthPct: 1 })]).to.deep.equal([true, false]);
    // Large but not significant: neither.
    expect([drifting({ driftPct: 5, halfWidthPct: 6 }), slowDrift({ driftPct: 5, halfWidthPct: 6 })]).to.deep.equal([false, false]);
    expect([drifting({ driftPct: 0.5, halfWidthPct: 1 }), slowDrift({ driftPct: 0.5, halfWidthPct: 1 })]).to.deep.equal([false, false]);
    // Significant but tiny (a smooth high-concurrency window): not named.
    expect([drifting({ driftPct: -0.3, halfWidthPct: 0.1 }), slowDrift({ driftPct: -0.3, halfWidthPct: 0.1 })]).to.deep.equal([false, false]);
  });

  it('the window rule: a drift is unclear (measure longer) when slow and significant, or past the limit within its noise', () => {
    const unclear = (driftPct: number, halfWidthPct: number, limit?: number) => driftUnclear({ driftPct, halfWidthPct }, limit);
    expect(unclear(-2.52, 2.32), 'the 768-client first window: slow and significant').to.equal(true);
    expect(unclear(-4.31, 7.52), 'its third window: past 3 %, lost in noise').to.equal(true);
    expect(unclear(5, 6)).to.equal(true);
    expect(unclear(-4, 1), 'clearly drifting: restarted, not lengthened').to.equal(false);
    expect(unclear(0.5, 1), 'small and not significant: steady').to.equal(false);
    expect(unclear(2.5, 3), 'within the limit and not significant: steady').to.equal(false);
    expect(unclear(-0.3, 0.1), 'significant but tiny: steady').to.equal(false);
    // The limit moves the line between unclear and steady.
    expect(unclear(2, 3, 1)).to.equal(true);
    expect(unclear(2, 3)).to.equal(false);
  });
});
