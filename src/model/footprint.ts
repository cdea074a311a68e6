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
 *   code and fixed data; the rate is ignored — the size is the count);
 * - `block`: every activation touches one block of `blockLines` consecutive lines picked
 *   at random (the page cache page a read copies, the buffer it copies into).
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

export type Pattern = 'uniform' | 'sequential' | 'pass' | 'block';
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
  /**
   * `pass` regions only: the activation touches just the first `passLines` lines of the
   * region (a path that runs a prefix of a shared code region); all of them when absent.
   */
  passLines?: number;
  /**
   * `block` regions only: each activation picks one block of this many lines at random
   * and touches all of them in order (a page a read copies, a buffer-pool frame).
   */
  blockLines?: number;
  /**
   * Kernel footprints only: the region is in the calling process's address space (a
   * user buffer the kernel copies into), not the kernel's.
   */
  userSpace?: boolean;
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
  /**
   * Share of an instruction miss's latency the front end hides by fetching ahead (0 when
   * absent): straight-line code with little reuse (a network stack) keeps the fetch unit
   * ahead of decode; a branchy loop-heavy path does not.
   */
  codeMissOverlap?: number;
  /**
   * One code line in this many ends in a taken branch whose target the BTB must hold
   * (1 when absent: every line, as in a loop-heavy path). Long straight-line code has
   * fewer taken branches per line fetched.
   */
  linesPerTakenBranch?: number;
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

/**
 * Request-scoped instances live in a ring of this many slots per region and process: a
 * request's buffers get their own addresses, and the addresses of a request this many
 * requests ago are reused (as a slab allocator reuses freed objects), so memory stays
 * bounded however long a run is. By then the old request's lines have long left the caches.
 */
export const REQUEST_SLOTS = 4096;

/** One placed instance of a region: its first line, its sequential cursor and its fractional reference carry. */
interface Instance {
  base: number;
  cursor: number;
  carry: number;
}

/** A region with its instances, resolved once per runner. */
interface BoundRegion {
  readonly spec: RegionSpec;
  readonly name: string;
  readonly stride: number;
  readonly code: boolean;
  readonly huge: boolean;
  readonly write: boolean;
  readonly overlap: number | undefined;
  readonly userSpace: boolean;
  readonly instances: Map<number, Instance>;
}

/** A footprint bound to a machine's geometry: runs segments on a core. */
export class FootprintRunner {
  private branchCarry = 0;
  private readonly codeOverlap: number;
  private readonly branchEvery: number;
  private readonly regions: BoundRegion[];
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
    this.codeOverlap = spec.codeMissOverlap ?? 0;
    this.branchEvery = Math.max(1, Math.round(spec.linesPerTakenBranch ?? 1));
    this.regions = spec.regions.map((r) => ({
      spec: r,
      name: r.shareAs ?? `${spec.name}/${r.name}`,
      stride: r.strideLines ?? 1,
      code: r.side === 'code',
      huge: r.huge === true,
      write: r.sharedWrite === true,
      overlap: r.missOverlap,
      userSpace: r.userSpace === true,
      instances: new Map<number, Instance>(),
    }));
  }

  /** The instance of region `b` for placement `at` (placed at a new address on first use). */
  private instance(b: BoundRegion, at: Placement): Instance {
    let id: number;
    switch (b.spec.scope) {
      case 'shared':
        id = 0;
        break;
      case 'process':
        id = at.space;
        break;
      case 'thread':
        id = at.space * 2 ** 24 + at.thread;
        break;
      case 'request':
        id = at.space * 2 ** 24 + (at.request % REQUEST_SLOTS);
        break;
    }
    let inst = b.instances.get(id);
    if (inst === undefined) {
      const key = this.instanceKey(b, at);
      inst = { base: this.alloc.base(key, b.spec.lines, b.stride) / this.lineBytes, cursor: 0, carry: 0 };
      b.instances.set(id, inst);
    }
    return inst;
  }

  private instanceKey(b: BoundRegion, at: Placement): string {
    switch (b.spec.scope) {
      case 'shared':
        return b.name;
      case 'process':
        return `${b.name}/p${at.space}`;
      case 'thread':
        return `${b.name}/p${at.space}/t${at.thread}`;
      case 'request':
        return `${b.name}/p${at.space}/r${at.request % REQUEST_SLOTS}`;
    }
  }

  /** The number of references a region makes in a segment (fractions carried over). */
  private refCount(r: RegionSpec, inst: Instance, instructions: number): number {
    const exact = (instructions * (r.refsPerKilo ?? 0)) / 1000 + inst.carry;
    const n = Math.floor(exact);
    inst.carry = exact - n;
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
    for (const b of this.regions) {
      const r = b.spec;
      if (r.pattern !== 'sequential' || r.side !== 'data') continue;
      const inst = this.instance(b, at);
      const overlap = b.overlap ?? this.spec.missOverlap ?? this.defaultOverlap;
      let cursor = inst.cursor;
      for (let i = 0; i < lines; i++) {
        this.touch(core, b, inst.base + cursor * b.stride, space, overlap);
        cursor = cursor + 1 === r.lines ? 0 : cursor + 1;
      }
      inst.cursor = cursor;
    }
    core.end(0);
  }

  /** One reference of region `b` to `line`: a fetch (and its branch) or a data access. */
  private touch(core: Core, b: BoundRegion, line: number, space: number, overlap: number): void {
    if (b.code) {
      core.ifetch(line, Math.floor(line / this.linesPerPage), space, this.codeOverlap);
      // A code line with a taken branch needs its target in the BTB.
      if (this.branchEvery === 1 || line % this.branchEvery === 0) core.branch(line, space);
    } else {
      const page = Math.floor(line / (b.huge ? this.linesPerHuge : this.linesPerPage));
      core.dref(line, page, b.huge, b.write, space, overlap);
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
    const rng_ = rng;
    for (const b of this.regions) {
      const r = b.spec;
      const inst = this.instance(b, at);
      const ov = b.overlap ?? overlap;
      const base = inst.base;
      const stride = b.stride;
      const sp = b.userSpace ? at.space : space;
      if (r.pattern === 'pass') {
        const touched = r.passLines ?? r.lines;
        const first = Math.floor(slice.from * touched);
        const n = Math.floor(slice.to * touched) - first;
        for (let i = 0; i < n; i++) this.touch(core, b, base + (first + i) * stride, sp, ov);
      } else if (r.pattern === 'block') {
        // One block per activation: chosen when the activation's first slice runs.
        const bl = r.blockLines ?? 64;
        if (slice.from === 0) inst.cursor = Math.floor(rng_.random() * Math.floor(r.lines / bl)) * bl;
        const first = Math.floor(slice.from * bl);
        const n = Math.floor(slice.to * bl) - first;
        for (let i = 0; i < n; i++) this.touch(core, b, base + (inst.cursor + first + i) * stride, sp, ov);
      } else if (r.pattern === 'uniform') {
        const n = this.refCount(r, inst, instructions);
        const lines = r.lines;
        for (let i = 0; i < n; i++) this.touch(core, b, base + Math.floor(rng_.random() * lines) * stride, space, ov);
      } else {
        const n = this.refCount(r, inst, instructions);
        let cursor = inst.cursor;
        for (let i = 0; i < n; i++) {
          this.touch(core, b, base + cursor * stride, space, ov);
          cursor = cursor + 1 === r.lines ? 0 : cursor + 1;
        }
        inst.cursor = cursor;
      }
    }
    const mk = (instructions * this.spec.mispredictsPerKilo) / 1000 + this.branchCarry;
    const m = Math.floor(mk);
    this.branchCarry = mk - m;
    if (m > 0) core.mispredicts(m);
    if (extra !== undefined) extra(core);
    return core.end(instructions);
  }
}
