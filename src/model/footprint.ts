/**
 * Footprints: the memory behaviour of a code path, without simulating every load and store
 * (DESIGN.md §5).
 *
 * A footprint is a list of regions. Each region is code (i-side) or data (d-side), has a
 * size in cache lines, a spacing between its lines (1 = contiguous; 64 = one line per 4 KB
 * page, as page-aligned kernel objects are), a reuse pattern and a rate:
 *
 * - `uniform`: each reference picks a line of the region at random (a hot, warm or tail
 *   set of a reuse-distance profile, depending on the region's size);
 * - `sequential`: references walk the region in order and wrap (a loop body, or a stream
 *   through a large buffer that churns the L3); the position persists between segments;
 * - `pass`: every activation touches each line once, from the start (a syscall handler's
 *   code and fixed data; the rate is ignored — the size is the count).
 *
 * Where a region lives depends on its scope: `shared` regions exist once (kernel code, an
 * application's code), `process` regions once per address space, `thread` regions per
 * thread (stacks), `request` regions per request (buffers, the page-cache pages a pwrite
 * copies) — always at distinct addresses, so switching threads or requests has its real
 * cost.
 */
import { KERNEL, type ExecMode } from '../hw/cache-array.js';
import type { Core } from '../hw/core.js';
import type { SimRandom } from './engine.js';

export type Pattern = 'uniform' | 'sequential' | 'pass';
export type Scope = 'shared' | 'process' | 'thread' | 'request';

export interface RegionSpec {
  name: string;
  side: 'code' | 'data';
  scope: Scope;
  /** Size in cache lines. */
  lines: number;
  pattern: Pattern;
  /** References per 1000 instructions (uniform and sequential patterns). */
  refsPerKilo?: number;
  /** Lines between consecutive lines of the region (default 1: contiguous). */
  strideLines?: number;
  /** Reached through 2 MB pages (the kernel's direct map). */
  huge?: boolean;
  /** References are writes that other cores may read (coherence is charged). */
  sharedWrite?: boolean;
  /** Share of a miss's latency hidden for this region's references (else the footprint's). */
  missOverlap?: number;
  /**
   * Name under which the region's instances are shared between footprints (e.g. the
   * syscall entry code every syscall runs); by default a region belongs to its footprint.
   */
  shareAs?: string;
}

export interface FootprintSpec {
  name: string;
  mode: 'user' | 'kernel';
  /** Cycles per instruction with every reference hitting L1: a property of the code path. */
  baseCpi: number;
  /** Mispredictions per 1000 instructions of the code path's own branches. */
  mispredictsPerKilo: number;
  /**
   * Share of a data miss's latency the path hides by memory-level parallelism (0–1); the
   * machine's `hw.core.dataMissOverlap` when absent.
   */
  missOverlap?: number;
  regions: RegionSpec[];
}

/** Where instances of a scope are placed: one address per (region, instance). */
export interface Placement {
  /** Address space of user regions (kernel regions use space 0). */
  space: number;
  thread: number;
  request: number;
}

/**
 * Hands out distinct, page-aligned address ranges. Kernel regions are placed in the kernel
 * range, user regions in the process's range; instances of thread- and request-scoped
 * regions get their own ranges. Addresses stay below 2^47.
 */
export class AddressAllocator {
  private next: number;
  private readonly bases = new Map<string, number>();

  constructor(
    private readonly lineBytes: number,
    private readonly pageBytes: number,
    start = 0x1000_0000,
  ) {
    this.next = start;
  }

  /** Base address of a region instance (allocated on first use, then stable). */
  base(key: string, lines: number, strideLines: number): number {
    const hit = this.bases.get(key);
    if (hit !== undefined) return hit;
    const base = this.next;
    const bytes = Math.max(1, lines * strideLines) * this.lineBytes;
    this.next = base + Math.ceil(bytes / this.pageBytes) * this.pageBytes;
    if (this.next >= 2 ** 47) throw new RangeError('address allocator exhausted 2^47 bytes');
    this.bases.set(key, base);
    return base;
  }
}

const WHOLE = { from: 0, to: 1 };

/** A footprint bound to a machine's geometry: runs segments on a core. */
export class FootprintRunner {
  private readonly cursors = new Map<string, number>();
  private readonly carry = new Map<string, number>();
  private readonly linesPerPage: number;
  private readonly linesPerHuge: number;
  readonly mode: ExecMode;

  constructor(
    readonly spec: FootprintSpec,
    private readonly alloc: AddressAllocator,
    private readonly lineBytes: number,
    pageBytes: number,
    hugePageBytes: number,
    /** The machine's default miss overlap (hw.core.dataMissOverlap). */
    private readonly defaultOverlap = 0.5,
  ) {
    this.linesPerPage = pageBytes / lineBytes;
    this.linesPerHuge = hugePageBytes / lineBytes;
    this.mode = spec.mode === 'kernel' ? KERNEL : 0;
  }

  private instanceKey(r: RegionSpec, at: Placement): string {
    const name = r.shareAs ?? `${this.spec.name}/${r.name}`;
    switch (r.scope) {
      case 'shared':
        return name;
      case 'process':
        return `${name}/p${at.space}`;
      case 'thread':
        return `${name}/p${at.space}/t${at.thread}`;
      case 'request':
        return `${name}/p${at.space}/r${at.request}`;
    }
  }

  /** The number of references a region makes in a segment (fractions carried over). */
  private refCount(r: RegionSpec, key: string, instructions: number): number {
    const exact = (instructions * (r.refsPerKilo ?? 0)) / 1000 + (this.carry.get(key) ?? 0);
    const n = Math.floor(exact);
    this.carry.set(key, exact - n);
    return n;
  }

  /**
   * Stands for a long history of the program: walks each `sequential` region forward by
   * `lines` references (as its stream would have over a long run), so a measurement can
   * start with the caches — the L3 above all — full of the program's lines instead of
   * running hundreds of millions of instructions first. Runs as a zero-instruction
   * segment; callers measure after it.
   */
  prime(core: Core, at: Placement, lines: number): void {
    const space = this.mode === KERNEL ? 0 : at.space;
    core.begin(this.mode, at.space, this.spec.baseCpi, this.spec.missOverlap);
    for (const r of this.spec.regions) {
      if (r.pattern !== 'sequential' || r.side !== 'data') continue;
      const key = this.instanceKey(r, at);
      const stride = r.strideLines ?? 1;
      const base = this.alloc.base(key, r.lines, stride) / this.lineBytes;
      const overlap = r.missOverlap ?? this.spec.missOverlap ?? this.defaultOverlap;
      let cursor = this.cursors.get(key) ?? 0;
      for (let i = 0; i < lines; i++) {
        this.touch(core, r, base + cursor * stride, space, overlap);
        cursor = cursor + 1 === r.lines ? 0 : cursor + 1;
      }
      this.cursors.set(key, cursor);
    }
    core.end(0);
  }

  /** One reference of region `r` to `line`: a fetch (and its branch) or a data access. */
  private touch(core: Core, r: RegionSpec, line: number, space: number, overlap: number): void {
    if (r.side === 'code') {
      core.ifetch(line, Math.floor(line / this.linesPerPage), space);
      // Each code line carries a branch whose target the BTB must remember.
      core.branch(line, space);
    } else {
      const huge = r.huge === true;
      const page = Math.floor(line / (huge ? this.linesPerHuge : this.linesPerPage));
      core.dref(line, page, huge, r.sharedWrite === true, space, overlap);
    }
  }

  /**
   * Runs one segment of `instructions` instructions of this footprint on `core` and returns
   * its cycles. An activation of a footprint with `pass` regions may be split into bounded
   * segments: `slice` [from, to) is the share of the activation this segment covers, and
   * each pass region touches the matching share of its lines.
   */
  run(
    core: Core,
    instructions: number,
    at: Placement,
    rng: SimRandom,
    slice: { from: number; to: number } = WHOLE,
    /** Extra references the segment makes beyond its regions (e.g. a syscall entry's line). */
    extra?: (core: Core) => void,
  ): number {
    const space = this.mode === KERNEL ? 0 : at.space;
    core.begin(this.mode, at.space, this.spec.baseCpi, this.spec.missOverlap);
    const overlap = this.spec.missOverlap ?? this.defaultOverlap;
    for (const r of this.spec.regions) {
      const key = this.instanceKey(r, at);
      const stride = r.strideLines ?? 1;
      const base = this.alloc.base(key, r.lines, stride) / this.lineBytes;
      let first = 0;
      let n: number;
      if (r.pattern === 'pass') {
        first = Math.floor(slice.from * r.lines);
        n = Math.floor(slice.to * r.lines) - first;
      } else {
        n = this.refCount(r, key, instructions);
      }
      let cursor = r.pattern === 'pass' ? first : (this.cursors.get(key) ?? 0);
      for (let i = 0; i < n; i++) {
        let idx: number;
        if (r.pattern === 'uniform') idx = Math.floor(rng.random() * r.lines);
        else {
          idx = cursor;
          cursor = cursor + 1 === r.lines ? 0 : cursor + 1;
        }
        this.touch(core, r, base + idx * stride, space, r.missOverlap ?? overlap);
      }
      if (r.pattern === 'sequential') this.cursors.set(key, cursor);
    }
    const mk = (instructions * this.spec.mispredictsPerKilo) / 1000 + (this.carry.get('#branch') ?? 0);
    const m = Math.floor(mk);
    this.carry.set('#branch', mk - m);
    if (m > 0) core.mispredicts(m);
    if (extra !== undefined) extra(core);
    return core.end(instructions);
  }
}
