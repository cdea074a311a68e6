import { expect } from 'chai';
import { CacheArray, KERNEL, USER, setsFor, type ExecMode as ExecModeT } from '../src/hw/cache-array.js';

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

/**
 * A deliberately plain reference for CacheArray: timestamp LRU over per-slot arrays, set =
 * key % sets, invalid ways first (lowest first), else the smallest stamp. The optimised array
 * (recency lists, MRU shortcut, reciprocal set index) must agree with it on every observable.
 */
class ReferenceArray {
  readonly keys: number[];
  readonly spaces: number[];
  readonly stamps: number[];
  readonly modes: number[];
  readonly flags: number[];
  clock = 0;
  lastSlot = -1;
  victimKey = -1;
  victimSpace = 0;
  victimMode = 0;
  victimFlags = 0;
  readonly evictions = [0, 0, 0, 0];
  hits = 0;
  misses = 0;
  readonly ghostKeys: number[] | null;
  readonly ghostSpaces: number[];
  readonly ghostModes: number[];
  readonly ghostNext: number[];

  constructor(
    readonly sets: number,
    readonly ways: number,
    track: boolean,
  ) {
    const n = sets * ways;
    this.keys = new Array<number>(n).fill(-1);
    this.spaces = new Array<number>(n).fill(0);
    this.stamps = new Array<number>(n).fill(0);
    this.modes = new Array<number>(n).fill(0);
    this.flags = new Array<number>(n).fill(0);
    this.ghostKeys = track ? new Array<number>(n).fill(-1) : null;
    this.ghostSpaces = new Array<number>(n).fill(0);
    this.ghostModes = new Array<number>(n).fill(0);
    this.ghostNext = new Array<number>(sets).fill(0);
  }

  base(key: number): number {
    return (key % this.sets) * this.ways;
  }

  find(key: number, space: number): number {
    const b = this.base(key);
    for (let i = b; i < b + this.ways; i++) if (this.keys[i] === key && this.spaces[i] === space) return i;
    return -1;
  }

  probe(key: number, space: number): boolean {
    const s = this.find(key, space);
    if (s < 0) {
      this.misses++;
      return false;
    }
    this.stamps[s] = ++this.clock;
    this.lastSlot = s;
    this.hits++;
    return true;
  }

  access(key: number, space: number, mode: number): boolean {
    if (this.probe(key, space)) {
      this.victimKey = -1;
      return true;
    }
    this.insert(key, space, mode, 0);
    return false;
  }

  fill(key: number, space: number, mode: number, flags: number): void {
    const s = this.find(key, space);
    if (s < 0) return this.insert(key, space, mode, flags);
    this.stamps[s] = ++this.clock;
    this.lastSlot = s;
    this.victimKey = -1;
  }

  insert(key: number, space: number, mode: number, flags: number): void {
    const b = this.base(key);
    let v = -1;
    for (let i = b; i < b + this.ways; i++) {
      if (this.keys[i] === -1) {
        v = i;
        break;
      }
      if (v < 0 || this.stamps[i] < this.stamps[v]) v = i;
    }
    if (this.keys[v] !== -1) {
      this.victimKey = this.keys[v];
      this.victimSpace = this.spaces[v];
      this.victimMode = this.modes[v];
      this.victimFlags = this.flags[v];
      this.evictions[mode * 2 + this.modes[v]]++;
      if (this.ghostKeys) {
        const set = b / this.ways;
        const g = b + this.ghostNext[set];
        this.ghostNext[set] = (this.ghostNext[set] + 1) % this.ways;
        this.ghostKeys[g] = this.keys[v];
        this.ghostSpaces[g] = this.spaces[v];
        this.ghostModes[g] = mode;
      }
    } else {
      this.victimKey = -1;
    }
    this.keys[v] = key;
    this.spaces[v] = space;
    this.modes[v] = mode;
    this.flags[v] = flags;
    this.stamps[v] = ++this.clock;
    this.lastSlot = v;
  }

  takeEvictor(key: number, space: number): number {
    if (!this.ghostKeys) return -1;
    const b = this.base(key);
    for (let i = b; i < b + this.ways; i++) {
      if (this.ghostKeys[i] === key && this.ghostSpaces[i] === space) {
        this.ghostKeys[i] = -1;
        return this.ghostModes[i];
      }
    }
    return -1;
  }

  invalidate(key: number, space: number): boolean {
    const s = this.find(key, space);
    if (s < 0) return false;
    this.keys[s] = -1;
    return true;
  }

  flush(drop: (i: number) => boolean): number {
    let n = 0;
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] !== -1 && drop(i)) {
        this.keys[i] = -1;
        n++;
      }
    }
    return n;
  }

  setContents(set: number): number[] {
    const slots: number[] = [];
    for (let i = set * this.ways; i < (set + 1) * this.ways; i++) if (this.keys[i] !== -1) slots.push(i);
    return slots.sort((a, b) => this.stamps[b] - this.stamps[a]).map((s) => this.keys[s]);
  }

  countOwned(mode: number, space?: number): number {
    let n = 0;
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== -1 && this.modes[i] === mode && (space === undefined || this.spaces[i] === space)) n++;
    return n;
  }
}

/** A small seeded PRNG for the randomized tests (mulberry32). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('CacheArray equals a plain timestamp-LRU reference', () => {
  it('computes key mod sets exactly for keys up to 2^53, any number of sets', () => {
    const rnd = prng(7);
    for (const sets of [1, 2, 3, 5, 7, 12, 64, 100, 768, 1000, 8192, 12288, 65535, 2 ** 20 + 1]) {
      const a = new CacheArray({ sets, ways: 1 });
      const edge = [0, sets - 1, sets, sets + 1, 2 ** 32 - 1, 2 ** 32, 2 ** 52, 2 ** 53 - 1, 2 ** 53 - 2, Math.floor(0x7ffc00000778 / 64)];
      for (const key of edge) expect(a.setOf(key), `${key} mod ${sets}`).to.equal(key % sets);
      for (let i = 0; i < 2000; i++) {
        const key = Math.floor(rnd() * 2 ** 21) * 2 ** 32 + Math.floor(rnd() * 2 ** 32);
        expect(a.setOf(key), `${key} mod ${sets}`).to.equal(key % sets);
      }
    }
  });

  it('agrees on random operation sequences (hits, fills, victims, evictors, invalidations, flushes)', () => {
    const geometries = [
      [1, 1],
      [1, 4],
      [3, 2],
      [4, 3],
      [7, 4],
      [16, 8],
      [2, 16],
    ];
    let checked = 0;
    for (const [sets, ways] of geometries) {
      for (const track of [false, true]) {
        for (let seed = 1; seed <= 4; seed++) {
          const rnd = prng(sets * 1000 + ways * 10 + seed + (track ? 500000 : 0));
          const a = new CacheArray({ sets, ways }, { trackEvictors: track });
          const r = new ReferenceArray(sets, ways, track);
          // a pool about twice the capacity, with keys beyond 2^32 and near 2^53
          const pool: number[] = [];
          const high = [0, 2 ** 32, 2 ** 52 - sets * 64];
          for (let i = 0; i < 2 * sets * ways + 3; i++) pool.push(high[i % 3] + Math.floor(rnd() * 4 * sets * ways));
          const pick = () => pool[Math.floor(rnd() * pool.length)];
          const space = () => Math.floor(rnd() * 3);
          const mode = (): ExecModeT => (rnd() < 0.5 ? USER : KERNEL);
          const where = (step: number, op: string) => `geometry ${sets}x${ways} track=${track} seed ${seed} step ${step} ${op}`;
          expect(a.lastSlot).to.equal(-1);
          for (let step = 0; step < 3000; step++) {
            const u = rnd();
            const key = pick();
            const sp = space();
            let op: string;
            if (u < 0.4) {
              op = 'access';
              const m = mode();
              expect(a.access(key, sp, m), where(step, op)).to.equal(r.access(key, sp, m));
            } else if (u < 0.55) {
              op = 'probe-insert';
              const m = mode();
              const hit = a.probe(key, sp);
              expect(hit, where(step, op)).to.equal(r.probe(key, sp));
              if (!hit) {
                expect(a.takeEvictor(key, sp), where(step, op)).to.equal(r.takeEvictor(key, sp));
                a.insert(key, sp, m, 0);
                r.insert(key, sp, m, 0);
              }
            } else if (u < 0.7) {
              op = 'fill';
              const m = mode();
              const f = Math.floor(rnd() * 4);
              a.fill(key, sp, m, f);
              r.fill(key, sp, m, f);
            } else if (u < 0.8) {
              op = 'find';
              expect(a.find(key, sp), where(step, op)).to.equal(r.find(key, sp));
            } else if (u < 0.93) {
              op = 'invalidate';
              expect(a.invalidate(key, sp), where(step, op)).to.equal(r.invalidate(key, sp));
            } else if (u < 0.95) {
              op = 'takeEvictor';
              expect(a.takeEvictor(key, sp), where(step, op)).to.equal(r.takeEvictor(key, sp));
            } else if (u < 0.97) {
              op = 'flushSpace';
              expect(a.flushSpace(sp), where(step, op)).to.equal(r.flush((i) => r.spaces[i] === sp));
            } else if (u < 0.99) {
              op = 'flushNonGlobal';
              expect(a.flushNonGlobal(), where(step, op)).to.equal(r.flush((i) => (r.flags[i] & 1) === 0));
            } else {
              op = 'flushAll';
              expect(a.flushAll(), where(step, op)).to.equal(r.flush(() => true));
            }
            const w = where(step, op);
            expect(a.lastSlot, w).to.equal(r.lastSlot);
            expect(a.victimKey, w).to.equal(r.victimKey);
            if (r.victimKey !== -1) {
              expect([a.victimSpace, a.victimMode, a.victimFlags], w).to.deep.equal([r.victimSpace, r.victimMode, r.victimFlags]);
            }
            expect([a.hits, a.misses], w).to.deep.equal([r.hits, r.misses]);
            expect(Array.from(a.evictions), w).to.deep.equal(r.evictions);
            if (a.lastSlot >= 0 && r.keys[r.lastSlot] !== -1) {
              expect([a.modeAt(a.lastSlot), a.flagsAt(a.lastSlot)], w).to.deep.equal([r.modes[r.lastSlot], r.flags[r.lastSlot]]);
            }
            if (step % 50 === 0) {
              for (let set = 0; set < sets; set++) expect(a.setContents(set), `${w} set ${set}`).to.deep.equal(r.setContents(set));
              expect(a.countOwned(KERNEL), w).to.equal(r.countOwned(KERNEL));
              expect(a.countOwned(USER, 1), w).to.equal(r.countOwned(USER, 1));
            }
            checked++;
          }
        }
      }
    }
    expect(checked).to.equal(geometries.length * 2 * 4 * 3000);
  });
});
