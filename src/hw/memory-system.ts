/**
 * The memory hierarchy of a machine: per core a private L1i, L1d and L2, TLBs (L1 i/d,
 * a 2 MB-page L1 dTLB, a second level) and a branch-target buffer; a shared L3 that is
 * either inclusive (fills from memory go to L3 and L2/L1; an L3 eviction back-invalidates
 * the line in every core) or non-inclusive (the L3 is filled by L2 victims); an L2
 * streamer/adjacent-line prefetcher; memory; and a directory of lines modified by one core,
 * so a read or write by another core pays a cross-core transfer.
 *
 * Address spaces: space 0 is the kernel (one address space shared by all processes, as in
 * Linux); user processes use spaces ≥ 1. Cache lines match on (line, space), which is the
 * physical identity of a line in this model. TLB entries are tagged by a PCID-like space
 * chosen from the KPTI mode (see `translate`).
 *
 * This layer knows nothing of syscalls: it answers "which level served this reference".
 */
import { CacheArray, KERNEL, USER, setsFor, type ExecMode } from './cache-array.js';
import type { HwConfig } from './machine-config.js';

/** Which level served a reference. */
export const L1 = 0;
export const L2 = 1;
export const L3 = 2;
export const MEM = 3;
export const REMOTE = 4;
export type ServedBy = typeof L1 | typeof L2 | typeof L3 | typeof MEM | typeof REMOTE;

/** Result of a translation. */
export const TLB_L1 = 0;
export const TLB_L2 = 1;
export const TLB_WALK = 2;
export type TlbResult = typeof TLB_L1 | typeof TLB_L2 | typeof TLB_WALK;

/** The kernel's address space. */
export const KERNEL_SPACE = 0;
/** PCID bit distinguishing a process's kernel-mode page tables under KPTI. */
const KPTI_KERNEL_PCID = 1 << 11;
/** Offset separating 2 MB-page keys from 4 KB-page keys in a shared second-level TLB. */
const HUGE_KEY_OFFSET = 2 ** 44;

export interface CorePrivate {
  readonly id: number;
  readonly l1i: CacheArray;
  readonly l1d: CacheArray;
  readonly l2: CacheArray;
  readonly itlb: CacheArray;
  readonly dtlb: CacheArray;
  readonly dtlbHuge: CacheArray;
  readonly stlb: CacheArray;
  readonly btb: CacheArray;
  /** Prefetcher stream table: per slot, the page and the last line that missed in L2. */
  readonly streamPage: Float64Array;
  readonly streamLast: Float64Array;
}

const STREAM_SLOTS = 32;

export interface MemorySystemOptions {
  /** Record who evicted each line, for the cycle stack's pollution split. */
  trackEvictors?: boolean;
}

/** One set of arrays: every core's private ones and the shared L3. */
interface Plane {
  cores: CorePrivate[];
  l3: CacheArray;
  /**
   * Inclusive L3 only: per L3 slot, a superset of the cores whose private caches may hold
   * the slot's line (bit c set when the line enters core c's L1/L2; never cleared, so a
   * back-invalidation only visits cores that may hold the line — the same result as
   * visiting every core, faster). Null with more than 32 cores: then every core is visited.
   */
  holders: Uint32Array | null;
}

export class MemorySystem {
  /** The arrays (user code's, when the pollution ablation gives each mode its own). */
  readonly cores: CorePrivate[];
  readonly l3: CacheArray;
  /** Per mode, the arrays its references go through (the same plane unless ablated). */
  private readonly planes: [Plane, Plane];
  /** The plane of the reference being served. */
  private p: Plane;
  readonly hw: HwConfig;
  /** Line key → core that holds it modified (only lines written with `write = true`). */
  private readonly modifiedBy = new Map<number, number>();
  /** After a reference: the mode that last evicted the line from the deepest level it missed, or -1. */
  lastEvictor = -1;
  /** Counters. */
  backInvalidations = 0;
  prefetchesIssued = 0;
  transfers = 0;

  constructor(hw: HwConfig, options: MemorySystemOptions = {}) {
    this.hw = hw;
    const shared = this.plane(options);
    // Pollution ablation: user and kernel code each get their own copy of every array, so
    // neither ever evicts the other's lines (nor shares a line with it).
    this.planes = hw.crossModeEviction ? [shared, shared] : [shared, this.plane(options)];
    this.p = shared;
    this.cores = shared.cores;
    this.l3 = shared.l3;
  }

  private plane(options: MemorySystemOptions): Plane {
    const hw = this.hw;
    const line = hw.lineBytes;
    const track = { trackEvictors: options.trackEvictors ?? false };
    const cache = (c: { sizeKiB: number; ways: number }) => new CacheArray({ sets: setsFor(c.sizeKiB * 1024, c.ways, line), ways: c.ways }, track);
    const tlb = (t: { entries: number; ways: number }) => new CacheArray({ sets: t.entries / t.ways, ways: t.ways });
    const cores: CorePrivate[] = [];
    for (let i = 0; i < hw.cores; i++) {
      cores.push({
        id: i,
        l1i: cache(hw.l1i),
        l1d: cache(hw.l1d),
        l2: cache(hw.l2),
        itlb: tlb(hw.tlb.l1i),
        dtlb: tlb(hw.tlb.l1d),
        dtlbHuge: tlb(hw.tlb.l1dHuge),
        stlb: tlb(hw.tlb.l2),
        btb: new CacheArray({ sets: hw.branch.btbEntries / hw.branch.btbWays, ways: hw.branch.btbWays }),
        streamPage: new Float64Array(STREAM_SLOTS).fill(-1),
        streamLast: new Float64Array(STREAM_SLOTS).fill(-1),
      });
    }
    const l3 = cache(hw.l3);
    return { cores, l3, holders: hw.l3.inclusive && hw.cores <= 32 ? new Uint32Array(l3.capacity) : null };
  }

  /** Marks the L3 slot of the line just looked up or filled as possibly held by `core`. */
  private holds(core: number): void {
    if (this.p.holders !== null) this.p.holders[this.p.l3.lastSlot] |= 1 << core;
  }

  /** Instruction fetch of one code line. */
  fetch(core: number, line: number, space: number, mode: ExecMode): ServedBy {
    this.p = this.planes[mode];
    const c = this.p.cores[core];
    return this.throughL1(c, c.l1i, line, space, mode);
  }

  /** Looks a line up in a first-level cache and, on a miss, goes on to L2, L3 and memory. */
  private throughL1(c: CorePrivate, l1: CacheArray, line: number, space: number, mode: ExecMode): ServedBy {
    if (l1.probe(line, space)) {
      this.lastEvictor = -1;
      return L1;
    }
    // Ask who evicted the line before the fill overwrites the set's eviction history.
    this.lastEvictor = l1.takeEvictor(line, space);
    l1.insert(line, space, mode, 0);
    return this.beyondL1(c, line, space, mode);
  }

  /**
   * Data reference to one line. `write` marks the line modified by this core (use it for
   * lines that other cores also touch — syscall entries, locks, shared kernel data — so
   * coherence transfers are charged; private stores need not say so).
   */
  data(core: number, line: number, space: number, mode: ExecMode, write: boolean): ServedBy {
    this.p = this.planes[mode];
    const c = this.p.cores[core];
    // Lines stay below 2^41 (addresses below 2^47) and spaces below 1024: exact below 2^53.
    const key = line * 1024 + space;
    if (this.modifiedBy.size > 0) {
      const owner = this.modifiedBy.get(key);
      if (owner !== undefined && owner !== core) {
        // Another core holds it modified: the line comes from there. A read leaves both
        // copies shared (clean); a write takes ownership and invalidates the other copy.
        if (write) {
          this.invalidatePrivate(owner, line, space);
          this.modifiedBy.set(key, core);
        } else {
          this.modifiedBy.delete(key);
        }
        c.l1d.fill(line, space, mode);
        c.l2.fill(line, space, mode);
        this.afterL2Fill(c);
        if (this.hw.l3.inclusive) this.fillL3(line, space, mode, 0, 1 << core);
        this.transfers++;
        this.lastEvictor = -1;
        return REMOTE;
      }
    }
    if (write) {
      for (let i = 0; i < this.p.cores.length; i++) if (i !== core) this.invalidatePrivate(i, line, space);
      this.modifiedBy.set(key, core);
    }
    return this.throughL1(c, c.l1d, line, space, mode);
  }

  private invalidatePrivate(core: number, line: number, space: number): void {
    // A write takes the line from every copy, in both modes' arrays when they are separate.
    const o = this.planes[0].cores[core];
    const k = this.planes[1].cores[core];
    if (k !== o) {
      k.l1d.invalidate(line, space);
      k.l1i.invalidate(line, space);
      k.l2.invalidate(line, space);
    }
    o.l1d.invalidate(line, space);
    o.l1i.invalidate(line, space);
    o.l2.invalidate(line, space);
  }

  private beyondL1(c: CorePrivate, line: number, space: number, mode: ExecMode): ServedBy {
    if (c.l2.probe(line, space)) return L2;
    const ev2 = c.l2.takeEvictor(line, space);
    if (ev2 >= 0) this.lastEvictor = ev2;
    c.l2.insert(line, space, mode, 0);
    this.afterL2Fill(c);
    let served: ServedBy;
    if (this.p.l3.probe(line, space)) {
      this.holds(c.id);
      served = L3;
    } else {
      const ev3 = this.p.l3.takeEvictor(line, space);
      if (ev3 >= 0) this.lastEvictor = ev3;
      if (this.hw.l3.inclusive) this.insertL3(line, space, mode, 0, 1 << c.id);
      served = MEM;
    }
    if (this.hw.prefetch.enabled) this.prefetch(c, line, space, mode);
    return served;
  }

  /** Handles the victim of an L2 fill: a non-inclusive L3 is filled by L2 victims. */
  private afterL2Fill(c: CorePrivate): void {
    if (!this.hw.l3.inclusive && c.l2.victimKey >= 0) {
      this.p.l3.fill(c.l2.victimKey, c.l2.victimSpace, c.l2.victimMode);
    }
  }

  /**
   * Places a line in the L3 (or refreshes it); an inclusive L3 back-invalidates the line it
   * evicts. `holders`: the cores whose private caches receive the line with it.
   */
  private fillL3(line: number, space: number, mode: ExecMode, flags: number, holders: number): void {
    if (this.p.l3.find(line, space) >= 0) {
      this.p.l3.fill(line, space, mode, flags);
      if (this.p.holders !== null) this.p.holders[this.p.l3.lastSlot] |= holders;
      return;
    }
    this.insertL3(line, space, mode, flags, holders);
  }

  /** Places a line known to be absent from the L3 (see `fillL3`). */
  private insertL3(line: number, space: number, mode: ExecMode, flags: number, holders: number): void {
    this.p.l3.insert(line, space, mode, flags);
    if (!this.hw.l3.inclusive) return;
    const slot = this.p.l3.lastSlot;
    const key = this.p.l3.victimKey;
    if (key >= 0) {
      // The victim left the slot the new line took: its holders are that slot's.
      const space = this.p.l3.victimSpace;
      const mask = this.p.holders !== null ? this.p.holders[slot] : -1;
      for (let i = 0; i < this.p.cores.length; i++) {
        if (this.p.holders !== null && (mask & (1 << i)) === 0) continue;
        const o = this.p.cores[i];
        if (o.l1i.invalidate(key, space)) this.backInvalidations++;
        if (o.l1d.invalidate(key, space)) this.backInvalidations++;
        if (o.l2.invalidate(key, space)) this.backInvalidations++;
      }
    }
    if (this.p.holders !== null) this.p.holders[slot] = holders;
  }

  /**
   * L2 streamer and adjacent-line prefetcher, triggered by a demand miss in L2. A forward
   * stream is detected when a miss lies above the previous miss of the same 4 KB page; the
   * next `streamDegree` lines of that page are then fetched (like Intel's streamer, it
   * tracks one stream per page and never crosses a page). The adjacent-line prefetcher
   * fetches the other line of the aligned 128-byte pair. Prefetches fill `fillLevel`.
   */
  private prefetch(c: CorePrivate, line: number, space: number, mode: ExecMode): void {
    const pf = this.hw.prefetch;
    const linesPerPage = this.hw.pageBytes / this.hw.lineBytes;
    const page = Math.floor(line / linesPerPage);
    // (no `%` on doubles: it is a slow library call in V8)
    const slot = page - Math.floor(page / STREAM_SLOTS) * STREAM_SLOTS;
    const firstOfPage = page * linesPerPage;
    const lastOfPage = firstOfPage + linesPerPage - 1;
    if (pf.adjacentLine) {
      const buddy = line - Math.floor(line / 2) * 2 === 0 ? line + 1 : line - 1;
      this.prefetchLine(c, buddy, space, mode);
    }
    if (pf.streamDegree > 0) {
      const last = c.streamLast[slot];
      if (c.streamPage[slot] === page && line > last) {
        for (let i = 1; i <= pf.streamDegree; i++) {
          const target = line + i;
          if (target > lastOfPage) break;
          this.prefetchLine(c, target, space, mode);
        }
      }
      c.streamPage[slot] = page;
      c.streamLast[slot] = line;
    }
  }

  private prefetchLine(c: CorePrivate, line: number, space: number, mode: ExecMode): void {
    this.prefetchesIssued++;
    if (this.hw.prefetch.fillLevel === 'l2') {
      if (c.l2.find(line, space) >= 0) return;
      c.l2.fill(line, space, mode, 2);
      this.afterL2Fill(c);
      if (this.hw.l3.inclusive) this.fillL3(line, space, mode, 2, 1 << c.id);
    } else {
      if (this.p.l3.find(line, space) >= 0) return;
      this.insertL3(line, space, mode, 2, 0);
    }
  }

  /**
   * Translates one page. `page` is the page number in units of the page size in use
   * (4 KB pages, or 2 MB pages when `huge`). `space` is the process's user space (the
   * kernel's mappings are global when KPTI is off; under KPTI they are not global and
   * belong to each process's kernel-mode page tables, a separate PCID).
   */
  translate(core: number, page: number, huge: boolean, instr: boolean, mode: ExecMode, space: number): TlbResult {
    const c = this.planes[mode].cores[core];
    let tlbSpace: number;
    let global: boolean;
    if (mode === USER) {
      tlbSpace = space;
      global = false;
    } else if (this.hw.modeSwitch.kpti === 'off') {
      tlbSpace = KERNEL_SPACE;
      global = true;
    } else {
      tlbSpace = KPTI_KERNEL_PCID + space;
      global = false;
    }
    const flags = global ? 1 : 0;
    const first = instr ? c.itlb : huge ? c.dtlbHuge : c.dtlb;
    if (first.probe(page, tlbSpace)) return TLB_L1;
    const useL2 = !huge || this.hw.tlb.l2.holdsHuge;
    const l2key = huge ? page + HUGE_KEY_OFFSET : page;
    let result: TlbResult = TLB_WALK;
    if (useL2) {
      if (c.stlb.probe(l2key, tlbSpace)) result = TLB_L2;
      else c.stlb.fill(l2key, tlbSpace, mode, flags);
    }
    first.fill(page, tlbSpace, mode, flags);
    return result;
  }

  /** A CR3 write without PCID: every non-global translation of the core is dropped. */
  flushTlbNonGlobal(core: number): number {
    const flush = (c: CorePrivate) => c.itlb.flushNonGlobal() + c.dtlb.flushNonGlobal() + c.dtlbHuge.flushNonGlobal() + c.stlb.flushNonGlobal();
    const [u, k] = this.planes;
    return flush(u.cores[core]) + (k !== u ? flush(k.cores[core]) : 0);
  }

  /** Looks a branch site up in the core's BTB; false (a cold branch) fills it. */
  branch(core: number, site: number, space: number, mode: ExecMode): boolean {
    return this.planes[mode].cores[core].btb.access(site, space, mode);
  }
}

export { USER, KERNEL };
