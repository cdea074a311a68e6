/**
 * A cache simulation that reproduces cachegrind's (valgrind 3.19, `cg_sim.c` and the
 * instrumentation rules of `cg_main.c`) counts exactly when fed the same references,
 * e.g. from a lackey trace of the same run. Checked against real cachegrind output by
 * test/cache.test.ts on the fixtures of test/fixtures/lackey/.
 *
 * The rules, each confirmed on real cachegrind runs (see the fixtures' README):
 *  - Three caches: I1, D1 and a unified LL. Write-allocate, true LRU, no prefetch, no
 *    write-back traffic, no inclusion: LL is looked up only when L1 misses.
 *  - A reference of `size` bytes at `addr` touches lines floor(addr / line) through
 *    floor((addr + size - 1) / line). When it straddles two lines both are looked up
 *    (both update LRU state), and it counts ONE miss if either misses. The LL lookup after
 *    an L1 miss is the whole reference again, with LL's own line size.
 *  - set = line number mod sets; the tag is the whole line number.
 *  - Instruction fetches use I1 then LL. Cachegrind's "NoX" fast path (one-line fetches
 *    when I1 and LL lines are equal) is only an optimisation of the same rule.
 *  - Data: a load is a read (Dr), a store a write (Dw), and a modify (lackey's `M`:
 *    cachegrind's Ev_Dm) ONE read and no write.
 *  - Data sizes above the smallest line size of the three caches are clamped to it
 *    (cachegrind does so for the large accesses of dirty helpers such as fxsave's 160
 *    bytes; lackey prints the real size). So a data reference never spans more than two
 *    lines. An instruction spanning more than two lines makes cachegrind panic; here it
 *    is an InputError.
 *  - cachegrind zero-fills its tag arrays, so line number 0 (addresses 0..line-1) starts
 *    out present in set 0 of every cache, as its least recently used line. Reproduced by
 *    pre-filling line 0.
 */
import { CacheArray, USER } from './cache-array.js';
import { InputError } from '../errors.js';

/** Cachegrind's event names, in the order of its `events:` line. */
export const CACHEGRIND_EVENTS = ['Ir', 'I1mr', 'ILmr', 'Dr', 'D1mr', 'DLmr', 'Dw', 'D1mw', 'DLmw'] as const;
export type CachegrindEvent = (typeof CACHEGRIND_EVENTS)[number];
export type CachegrindCounts = Record<CachegrindEvent, number>;

/** One cache as cachegrind's `--I1/--D1/--LL=size,assoc,line_size` describe it (bytes). */
export interface CacheGeometry {
  size: number;
  assoc: number;
  lineSize: number;
}

export interface CachegrindConfig {
  I1: CacheGeometry;
  D1: CacheGeometry;
  LL: CacheGeometry;
}

/** cachegrind's MIN_LINE_SIZE: smaller lines would let one instruction span three lines. */
export const MIN_LINE_SIZE = 16;
const INT_MAX = 2 ** 31 - 1;

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * Parses and validates a cache option value (`"32768,8,64"`) the way cachegrind does
 * (`parse_cache_opt` and `check_cache` in valgrind 3.19, checks in the same order).
 * `option` names the option in error messages, e.g. `--D1`.
 */
export function parseCacheOption(option: string, value: string): CacheGeometry {
  const where = `${option}=${value}`;
  const m = /^(\d+),(\d+),(\d+)$/.exec(value.trim());
  if (!m) {
    throw new InputError(`${where}: expected size,assoc,line_size as three whole numbers of bytes/ways/bytes separated by commas (e.g. 32768,8,64)`);
  }
  const [size, assoc, lineSize] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (size > INT_MAX || assoc > INT_MAX || lineSize > INT_MAX) {
    throw new InputError(`${where}: expected each parameter to be at most ${INT_MAX}; one of them is too large (cachegrind: overflow)`);
  }
  return checkGeometry(option, { size, assoc, lineSize });
}

/** Validates a geometry like cachegrind's `check_cache`; returns it unchanged. */
export function checkGeometry(option: string, g: CacheGeometry): CacheGeometry {
  const { size, assoc, lineSize } = g;
  const where = `${option}=${size},${assoc},${lineSize}`;
  // (a zero or negative size fails the set-count check below, as in cachegrind; a zero
  // associativity or line size makes cachegrind divide by zero)
  for (const [name, v] of [['associativity', assoc], ['line size', lineSize]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new InputError(`${where}: expected the ${name} to be a positive whole number, got ${v}`);
  }
  const sets = size / (lineSize * assoc);
  if (!isPowerOfTwo(sets)) {
    throw new InputError(
      `${where}: expected size / (assoc × line_size) to be a power-of-two number of sets, got ${size} / (${assoc} × ${lineSize}) = ${+sets.toFixed(3)} (cachegrind: "Cache set count is not a power of two")`,
    );
  }
  if (!isPowerOfTwo(lineSize)) {
    throw new InputError(`${where}: expected the line size to be a power of two, got ${lineSize} (cachegrind: "Cache line size is not a power of two")`);
  }
  if (lineSize < MIN_LINE_SIZE) {
    throw new InputError(`${where}: expected a line size of at least ${MIN_LINE_SIZE} bytes, got ${lineSize} (cachegrind: "Cache line size is too small")`);
  }
  if (size <= lineSize) {
    throw new InputError(`${where}: expected the size to exceed the line size, got ${size} <= ${lineSize} (cachegrind: "Cache size <= line size")`);
  }
  if (assoc > size / lineSize) {
    throw new InputError(`${where}: expected at most size / line_size = ${size / lineSize} ways, got ${assoc} (cachegrind: "Cache associativity > (size / line size)")`);
  }
  return g;
}

/** cachegrind's description of a cache, e.g. "32768 B, 64 B, 8-way associative". */
export function describeGeometry(g: CacheGeometry): string {
  return g.assoc === 1 ? `${g.size} B, ${g.lineSize} B, direct-mapped` : `${g.size} B, ${g.lineSize} B, ${g.assoc}-way associative`;
}

/** One simulated cache level: a CacheArray plus its line size. */
class Level {
  readonly array: CacheArray;
  readonly lineSize: number;

  constructor(g: CacheGeometry) {
    this.lineSize = g.lineSize;
    this.array = new CacheArray({ sets: g.size / (g.lineSize * g.assoc), ways: g.assoc });
    // cachegrind's tag arrays start zeroed: line 0 is present in set 0 (see module comment).
    this.array.fill(0, 0, USER);
  }

  /**
   * cachesim_ref_is_miss: looks up every line of [addr, addr+size) (at most two) and
   * returns true if any missed. Line numbers are computed in doubles (exact below 2^53;
   * division by a power of two is exact), never with 32-bit operators.
   */
  refIsMiss(addr: number, size: number): boolean {
    const line = this.lineSize;
    const block1 = Math.floor(addr / line);
    const block2 = Math.floor((addr + size - 1) / line);
    const array = this.array;
    if (block1 === block2) return !array.access(block1, 0, USER);
    if (block1 + 1 === block2) {
      // always do both: the second lookup updates LRU state even when the first missed
      const miss1 = !array.access(block1, 0, USER);
      const miss2 = !array.access(block2, 0, USER);
      return miss1 || miss2;
    }
    throw new InputError(
      `a reference of ${size} bytes at 0x${addr.toString(16)} spans ${block2 - block1 + 1} lines of ${line} bytes (cachegrind: "item straddles more than two cache sets")`,
    );
  }
}

/** Cachegrind's I1/D1/LL simulation with its nine counters. */
export class CachegrindSim {
  readonly config: CachegrindConfig;
  /** Data references larger than this are clamped to it (cachegrind's min_line_size). */
  readonly minLineSize: number;
  private readonly i1: Level;
  private readonly d1: Level;
  private readonly ll: Level;

  Ir = 0;
  I1mr = 0;
  ILmr = 0;
  Dr = 0;
  D1mr = 0;
  DLmr = 0;
  Dw = 0;
  D1mw = 0;
  DLmw = 0;

  constructor(config: CachegrindConfig) {
    checkGeometry('--I1', config.I1);
    checkGeometry('--D1', config.D1);
    checkGeometry('--LL', config.LL);
    this.config = config;
    this.i1 = new Level(config.I1);
    this.d1 = new Level(config.D1);
    this.ll = new Level(config.LL);
    this.minLineSize = Math.min(config.I1.lineSize, config.D1.lineSize, config.LL.lineSize);
  }

  /** An instruction fetch (lackey `I`). */
  instr(addr: number, size: number): void {
    this.Ir++;
    if (this.i1.refIsMiss(addr, size)) {
      this.I1mr++;
      if (this.ll.refIsMiss(addr, size)) this.ILmr++;
    }
  }

  /** A data read (lackey `L`, and `M`: a modify counts as one read). */
  read(addr: number, size: number): void {
    if (size > this.minLineSize) size = this.minLineSize;
    this.Dr++;
    if (this.d1.refIsMiss(addr, size)) {
      this.D1mr++;
      if (this.ll.refIsMiss(addr, size)) this.DLmr++;
    }
  }

  /** A data write (lackey `S`). */
  write(addr: number, size: number): void {
    if (size > this.minLineSize) size = this.minLineSize;
    this.Dw++;
    if (this.d1.refIsMiss(addr, size)) {
      this.D1mw++;
      if (this.ll.refIsMiss(addr, size)) this.DLmw++;
    }
  }

  /** A data modify (lackey `M`, cachegrind's Ev_Dm): counted exactly as one read. */
  modify(addr: number, size: number): void {
    this.read(addr, size);
  }

  /**
   * Applies records given as parallel arrays (kinds: 0 = I, 1 = L, 2 = S, 3 = M, the
   * constants of workloads/trace/lackey.ts). Returns the number applied.
   */
  run(count: number, kinds: ArrayLike<number>, addrs: ArrayLike<number>, sizes: ArrayLike<number>): number {
    for (let i = 0; i < count; i++) {
      const k = kinds[i];
      if (k === 0) this.instr(addrs[i], sizes[i]);
      else if (k === 2) this.write(addrs[i], sizes[i]);
      else if (k === 1 || k === 3) this.read(addrs[i], sizes[i]);
      else throw new RangeError(`unknown reference kind ${k}`);
    }
    return count;
  }

  counts(): CachegrindCounts {
    return {
      Ir: this.Ir,
      I1mr: this.I1mr,
      ILmr: this.ILmr,
      Dr: this.Dr,
      D1mr: this.D1mr,
      DLmr: this.DLmr,
      Dw: this.Dw,
      D1mw: this.D1mw,
      DLmw: this.DLmw,
    };
  }
}

/** ULong_width of cg_main.c: digits plus room for thousands separators. */
function width(n: number): number {
  const w = Math.max(1, String(Math.trunc(n)).length);
  return w + Math.floor((w - 1) / 3);
}

/**
 * printf("%.Nf") of a non-negative number: like toFixed, except that an exact tie is
 * rounded to even as glibc does (toFixed rounds it up: 0.25 → "0.3", glibc "0.2").
 */
export function cFixed(x: number, digits: number): string {
  const rounded = x.toFixed(digits);
  if (!(x >= 0) || x >= 1e21) return rounded;
  const exact = x.toFixed(100); // the double's exact decimal expansion (to 100 places)
  const dot = exact.indexOf('.');
  if (!/^50*$/.test(exact.slice(dot + 1 + digits))) return rounded;
  const truncated = exact.slice(0, digits === 0 ? dot : dot + 1 + digits);
  return Number(truncated[truncated.length - 1]) % 2 === 0 ? truncated : rounded;
}

function commas(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * The summary cachegrind 3.19 prints at exit (cg_fini, without the `==pid== ` prefixes),
 * e.g. "I   refs:      17,579\nI1  misses: …". Ends with a newline.
 */
export function formatCachegrindSummary(c: CachegrindCounts): string {
  const l1 = width(c.Ir);
  const l2 = width(c.Dr);
  const l3 = width(c.Dw);
  const num = (n: number, w: number) => commas(n).padStart(w);
  const pct = (x: number, digits: number, w: number) => cFixed(x, digits).padStart(w);
  const one = (label: string, n: number) => `${label} ${num(n, l1)}\n`;
  const three = (label: string, a: number, r: number, w: number) => `${label} ${num(a, l1)}  (${num(r, l2)} rd   + ${num(w, l3)} wr)\n`;
  const rates = (label: string, a: number, r: number, w: number) => `${label} ${pct(a, 1, l1)}% (${pct(r, 1, l2)}%     + ${pct(w, 1, l3)}%  )\n`;

  let out = '';
  out += one('I   refs:     ', c.Ir);
  out += one('I1  misses:   ', c.I1mr);
  out += one('LLi misses:   ', c.ILmr);
  const ir = c.Ir === 0 ? 1 : c.Ir;
  out += `I1  miss rate: ${pct((c.I1mr * 100) / ir, 2, l1)}%\n`;
  out += `LLi miss rate: ${pct((c.ILmr * 100) / ir, 2, l1)}%\n`;
  out += '\n';

  const dA = c.Dr + c.Dw;
  const d1 = c.D1mr + c.D1mw;
  const dL = c.DLmr + c.DLmw;
  out += three('D   refs:     ', dA, c.Dr, c.Dw);
  out += three('D1  misses:   ', d1, c.D1mr, c.D1mw);
  out += three('LLd misses:   ', dL, c.DLmr, c.DLmw);
  const dAn = dA === 0 ? 1 : dA;
  const dr = c.Dr === 0 ? 1 : c.Dr;
  const dw = c.Dw === 0 ? 1 : c.Dw;
  out += rates('D1  miss rate:', (d1 * 100) / dAn, (c.D1mr * 100) / dr, (c.D1mw * 100) / dw);
  out += rates('LLd miss rate:', (dL * 100) / dAn, (c.DLmr * 100) / dr, (c.DLmw * 100) / dw);
  out += '\n';

  const llRefs = c.D1mr + c.D1mw + c.I1mr;
  const llRefsR = c.D1mr + c.I1mr;
  out += three('LL refs:      ', llRefs, llRefsR, c.D1mw);
  const llM = c.DLmr + c.DLmw + c.ILmr;
  const llMr = c.DLmr + c.ILmr;
  out += three('LL misses:    ', llM, llMr, c.DLmw);
  // cg_fini divides by the totals after replacing zero ones by 1 (Ir and D refs here)
  out += rates('LL miss rate: ', (llM * 100) / (ir + dAn), (llMr * 100) / (ir + dr), (c.DLmw * 100) / dw);
  return out;
}
