import { expect } from 'chai';
import { CacheArray, KERNEL, USER, setsFor } from '../src/hw/cache-array.js';

/** Keys that map to set `set` of an array with `sets` sets. */
const inSet = (set: number, sets: number, i: number) => set + i * sets;

describe('CacheArray (true LRU, owner accounting)', () => {
  it('fills invalid ways first, lowest way first, without evicting', () => {
    const a = new CacheArray({ sets: 4, ways: 4 });
    for (let i = 0; i < 4; i++) {
      expect(a.access(inSet(1, 4, i), 0, USER)).to.equal(false);
      expect(a.victimKey).to.equal(-1);
      expect(a.lastSlot).to.equal(1 * 4 + i);
    }
    expect(a.evictions[0]).to.equal(0);
    expect(a.setContents(1)).to.deep.equal([12 + 1, 8 + 1, 4 + 1, 1]);
  });

  it('evicts the least recently used line; a hit refreshes recency', () => {
    const a = new CacheArray({ sets: 2, ways: 3 });
    const k = (i: number) => inSet(0, 2, i);
    a.access(k(0), 0, USER);
    a.access(k(1), 0, USER);
    a.access(k(2), 0, USER);
    expect(a.access(k(0), 0, USER)).to.equal(true); // k0 is now MRU; LRU is k1
    expect(a.access(k(3), 0, USER)).to.equal(false);
    expect(a.victimKey).to.equal(k(1));
    expect(a.setContents(0)).to.deep.equal([k(3), k(0), k(2)]);
    expect(a.access(k(1), 0, USER)).to.equal(false);
    expect(a.victimKey).to.equal(k(2));
  });

  it('matches a line only within its address space', () => {
    const a = new CacheArray({ sets: 1, ways: 2 });
    a.access(7, 1, USER);
    expect(a.access(7, 2, USER)).to.equal(false);
    expect(a.access(7, 1, USER)).to.equal(true);
    expect(a.find(7, 3)).to.equal(-1);
  });

  it('counts evictions by filler mode and victim mode, and who evicted a line', () => {
    const a = new CacheArray({ sets: 1, ways: 2 }, { trackEvictors: true });
    a.access(1, 1, USER);
    a.access(2, 1, USER);
    a.access(3, 0, KERNEL); // evicts user line 1
    expect(a.victimMode).to.equal(USER);
    expect(a.victimSpace).to.equal(1);
    a.access(4, 0, KERNEL); // evicts user line 2
    a.access(5, 1, USER); // evicts kernel line 3
    expect(Array.from(a.evictions)).to.deep.equal([0, 1, 2, 0]); // [u by u, k by u, u by k, k by k]
    // Ghost tags keep one set's worth (2) of recent evictions: line 1's record is gone.
    expect(a.takeEvictor(2, 1)).to.equal(KERNEL);
    expect(a.takeEvictor(2, 1)).to.equal(-1); // forgotten once taken
    expect(a.takeEvictor(1, 1)).to.equal(-1); // older than the set's history
    expect(a.takeEvictor(3, 0)).to.equal(USER);
    expect(a.countOwned(KERNEL)).to.equal(1);
    expect(a.countOwned(USER, 1)).to.equal(1);
  });

  it('handles keys beyond 2^32 exactly', () => {
    const a = new CacheArray({ sets: 64, ways: 2 });
    const big = Math.floor(0x1fff000778 / 64);
    const neighbour = big + 64; // same set, different tag
    a.access(big, 0, USER);
    expect(a.access(big, 0, USER)).to.equal(true);
    expect(a.access(neighbour, 0, USER)).to.equal(false);
    expect(a.setOf(big)).to.equal(big % 64);
  });

  it('fill() places a line without counting; invalidate() removes it', () => {
    const a = new CacheArray({ sets: 1, ways: 2 });
    a.fill(9, 0, KERNEL, 2);
    expect(a.hits + a.misses).to.equal(0);
    expect(a.flagsAt(a.find(9, 0))).to.equal(2);
    expect(a.invalidate(9, 0)).to.equal(true);
    expect(a.invalidate(9, 0)).to.equal(false);
    expect(a.probe(9, 0)).to.equal(false);
  });

  it('flushes non-global entries only, or one space only (TLB semantics)', () => {
    const t = new CacheArray({ sets: 4, ways: 4 });
    t.fill(1, 1, USER, 0);
    t.fill(2, 1, USER, 0);
    t.fill(3, 0, KERNEL, 1); // global kernel mapping
    t.fill(4, 2, USER, 0);
    expect(t.flushSpace(2)).to.equal(1);
    expect(t.find(4, 2)).to.equal(-1);
    expect(t.flushNonGlobal()).to.equal(2);
    expect(t.find(3, 0)).to.be.greaterThan(-1);
    expect(t.flushAll()).to.equal(1);
  });

  it('rejects impossible geometries', () => {
    expect(() => new CacheArray({ sets: 0, ways: 4 })).to.throw(RangeError);
    expect(() => new CacheArray({ sets: 4, ways: 1.5 })).to.throw(RangeError);
    expect(setsFor(32768, 8, 64)).to.equal(64);
    expect(() => setsFor(1000, 8, 64)).to.throw(/whole number of sets/);
  });
});
