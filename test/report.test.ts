import { expect } from 'chai';
import { formatNumber, toCsv } from '../src/report/csv.js';
import { loadReference } from '../src/report/reference.js';
import { pointSeed } from '../src/seed.js';

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
