/**
 * The syscall catalog: per kind, the kernel instructions it executes and the footprint of
 * its code path (DESIGN.md §5–§6), and (`BEHAVIOUR`, `kernelOps`) the locks it takes and
 * where it may wait.
 *
 * A handler's footprint is built from a few region kinds, each a `pass` (touched once per
 * call, so the code side is loop-dominated: Table 1 evicts only 32–78 i-cache lines for
 * 5–10K instructions):
 *
 * - `code`: the handler's own text, contiguous lines;
 * - `entry`: the syscall entry/exit path every call shares;
 * - `objects`: slab objects (inodes, dentries, files, vmas) 256 B apart in the direct map
 *   (2 MB pages) — such strides crowd a quarter of the L1 sets, so a path evicts far more
 *   L2 than L1 lines, as Table 1 shows;
 * - `data`: contiguous kernel data in the direct map (per-CPU data, tables);
 * - `pages`: data on 4 KB pages (vmalloc, page tables, user buffers), one line per page —
 *   the only kernel data that takes first-level d-TLB entries;
 * - `buffer`: per-call data, a new instance for each request (the page-cache page a pwrite
 *   copies into), contiguous, so its copy loop is a stream the prefetcher follows.
 *
 * The sizes and base CPIs live in `syscall-shapes.json`, calibrated on Table 1 by
 * `scripts/calibrate-table1.ts` (Table 1 is the paper's only per-syscall data). Calls
 * Table 1 measured only in combination (open+close, mmap+munmap, open+write+close) are
 * split as each entry's `source` states.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../paths.js';
import type { FootprintSpec, RegionSpec } from './footprint.js';
import type { RwMode } from './locks.js';

export interface SyscallShape {
  /** Kernel instructions per call. */
  instructions: number;
  /** Cycles per instruction with all references hitting L1. */
  baseCpi: number;
  codeLines: number;
  objectLines: number;
  dataLines: number;
  pageLines: number;
  bufferLines: number;
  /** Share of the object lines in 512 B objects (8 lines apart) rather than 256 B ones. */
  wideObjectShare: number;
  /** Mispredictions per 1000 instructions. */
  mispredictsPerKilo: number;
  /** Share of instruction-miss latency hidden by fetching ahead (0 when absent). */
  codeMissOverlap?: number;
  /** One code line in this many has a taken branch needing a BTB entry (1 when absent). */
  linesPerTakenBranch?: number;
  /**
   * The code is a prefix of a code region shared by a family of paths (the network stack:
   * send, sendfile and shutdown run the same transmit functions), of this name and size.
   */
  sharedCode?: { name: string; lines: number };
  /** Where the numbers come from. */
  source: string;
}

export interface SyscallSpec extends SyscallShape {
  name: string;
  footprint: FootprintSpec;
}

/** Path of the calibrated shapes (written by `scripts/calibrate-table1.ts`). */
export const SHAPES_FILE = join(projectRoot, 'src/model/syscall-shapes.json');

function readShapes(): Record<string, SyscallShape> {
  return JSON.parse(readFileSync(SHAPES_FILE, 'utf8')) as Record<string, SyscallShape>;
}

/** Lines of the shared syscall entry/exit path (entry_64.S, dispatch, return path). */
const ENTRY_LINES = 4;
/**
 * Slab objects sit 256 B apart (4 lines: dentries are 192 B, many kmalloc caches 256 B) or,
 * for a share of each path (`wideObjectShare`), 512 B apart; either way a path's objects
 * crowd a quarter of the L1 sets, while the streamer prefetches the rest of their pages
 * into the L3 — which is why Table 1's L3 evictions are 3–4.5× its L2 evictions.
 */
const OBJECT_STRIDE_LINES = 4;
/**
 * Share of a data miss's latency the kernel's syscall paths hide: their misses are to
 * independent objects and copy loops, so they overlap strongly. Calibrated on Table 1: with
 * less, the stall of stat's ~660 L2 misses alone exceeds its 13,585 measured cycles.
 */
export const KERNEL_MISS_OVERLAP = 0.8;

function footprint(name: string, s: SyscallShape): FootprintSpec {
  const regions: RegionSpec[] = [
    { name: 'entry', side: 'code', scope: 'shared', lines: ENTRY_LINES, pattern: 'pass', shareAs: 'kernel/syscall-entry' },
  ];
  const add = (r: RegionSpec) => {
    if (r.lines > 0) regions.push(r);
  };
  if (s.sharedCode) {
    // Touches the first `codeLines` lines of the family's region (sized for its largest path).
    regions.push({ name: 'code', side: 'code', scope: 'shared', lines: s.sharedCode.lines, pattern: 'pass', shareAs: s.sharedCode.name, passLines: s.codeLines });
  } else {
    add({ name: 'code', side: 'code', scope: 'shared', lines: s.codeLines, pattern: 'pass' });
  }
  const wide = Math.round(s.objectLines * s.wideObjectShare);
  add({ name: 'objects', side: 'data', scope: 'shared', lines: s.objectLines - wide, pattern: 'pass', strideLines: OBJECT_STRIDE_LINES, huge: true });
  add({ name: 'wide-objects', side: 'data', scope: 'shared', lines: wide, pattern: 'pass', strideLines: 2 * OBJECT_STRIDE_LINES, huge: true });
  add({ name: 'data', side: 'data', scope: 'shared', lines: s.dataLines, pattern: 'pass', huge: true });
  add({ name: 'pages', side: 'data', scope: 'shared', lines: s.pageLines, pattern: 'pass', strideLines: 65 });
  add({ name: 'buffer', side: 'data', scope: 'request', lines: s.bufferLines, pattern: 'pass', huge: true });
  return {
    name: `kernel/${name}`,
    mode: 'kernel',
    baseCpi: s.baseCpi,
    mispredictsPerKilo: s.mispredictsPerKilo,
    missOverlap: KERNEL_MISS_OVERLAP,
    ...(s.codeMissOverlap !== undefined ? { codeMissOverlap: s.codeMissOverlap } : {}),
    ...(s.linesPerTakenBranch !== undefined ? { linesPerTakenBranch: s.linesPerTakenBranch } : {}),
    regions,
  };
}

/** The network paths' shared densities (see `net-paths.json`). */
export interface NetKnobs {
  scale: number;
  baseCpi: number;
  codeLinesPerKilo: number;
  codeMissOverlap: number;
  linesPerTakenBranch: number;
  mispredictsPerKilo: number;
  objectLinesPerKilo: number;
  dataLinesPerKilo: number;
  bufferLinesPerKilo: number;
}

interface NetPaths {
  knobs: NetKnobs;
  paths: Record<string, { instructions: number; source: string }>;
}

/** Path of the network paths' estimates and calibrated densities. */
export const NET_PATHS_FILE = join(projectRoot, 'src/model/net-paths.json');

export function readNetPaths(): NetPaths {
  return JSON.parse(readFileSync(NET_PATHS_FILE, 'utf8')) as NetPaths;
}

/**
 * The network paths as syscall shapes: each path's estimated instructions (× `scale`),
 * with code, shared objects, per-CPU data and per-connection lines in proportion to them.
 */
export function netShapes(knobs: NetKnobs, paths: NetPaths['paths'] = readNetPaths().paths): Record<string, SyscallShape> {
  const out: Record<string, SyscallShape> = {};
  const codeOf = (instructions: number) => Math.max(1, Math.round((Math.round(instructions * knobs.scale) * knobs.codeLinesPerKilo) / 1000));
  const familyLines = Math.max(...Object.values(paths).map((p) => codeOf(p.instructions)));
  for (const [name, p] of Object.entries(paths)) {
    const instructions = Math.round(p.instructions * knobs.scale);
    const per = (perKilo: number) => Math.max(0, Math.round((instructions * perKilo) / 1000));
    out[name] = {
      instructions,
      baseCpi: knobs.baseCpi,
      codeLines: Math.max(1, per(knobs.codeLinesPerKilo)),
      objectLines: per(knobs.objectLinesPerKilo),
      dataLines: per(knobs.dataLinesPerKilo),
      pageLines: 0,
      bufferLines: per(knobs.bufferLinesPerKilo),
      wideObjectShare: 0,
      mispredictsPerKilo: knobs.mispredictsPerKilo,
      codeMissOverlap: knobs.codeMissOverlap,
      linesPerTakenBranch: knobs.linesPerTakenBranch,
      sharedCode: { name: 'kernel/net-stack', lines: familyLines },
      source: `${p.source}; footprint from the calibrated network densities (net-paths.json)`,
    };
  }
  return out;
}

/** Specs of a set of shapes. */
export function specsOf(shapes: Record<string, SyscallShape>): Record<string, SyscallSpec> {
  return Object.fromEntries(Object.entries(shapes).map(([name, shape]) => [name, { name, ...shape, footprint: footprint(name, shape) }]));
}

const SHAPES = { ...readShapes(), ...netShapes(readNetPaths().knobs) };

export const SYSCALLS: Readonly<Record<string, SyscallSpec>> = specsOf(SHAPES);

export function syscallSpec(name: string): SyscallSpec {
  const s = SYSCALLS[name];
  if (!s) throw new Error(`unknown syscall '${name}': known ${Object.keys(SYSCALLS).join(', ')}`);
  return s;
}

/** Replaces a syscall's shape (calibration tools and tests). */
export function withShape(name: string, shape: SyscallShape): SyscallSpec {
  return { name, ...shape, footprint: footprint(name, shape) };
}

/**
 * How a call behaves beyond its footprint: the kernel locks it takes and where it may wait.
 * Locks are Linux 2.6.33's: `mmap`/`munmap` hold the process's `mmap_sem` for writing
 * (sys_mmap_pgoff, sys_munmap: down_write), a page fault holds it for reading
 * (do_page_fault: down_read); `munmap` also shoots down the TLB entries of the other cores
 * that run the process. The shares of a path spent before, inside and after a lock are
 * estimates (the lock covers the VMA work, not the entry and exit paths).
 */
export interface SyscallBehaviour {
  /** Share of the instructions run before the call checks whether it must wait (default 0.5). */
  waitAt?: number;
  /** `mmap_sem` held over the share [from, to) of the instructions. */
  lock?: { mode: RwMode; from: number; to: number };
  /** TLB-shootdown IPIs to the other cores running the process, inside the lock. */
  shootdown?: boolean;
}

export const BEHAVIOUR: Readonly<Record<string, SyscallBehaviour>> = {
  mmap: { lock: { mode: 'write', from: 0.15, to: 0.9 } },
  munmap: { lock: { mode: 'write', from: 0.15, to: 0.9 }, shootdown: true },
  'page-fault': { lock: { mode: 'read', from: 0.1, to: 0.9 } },
  // Calls that may sleep check early whether their data is there (the wait point), then do
  // most of their work (the copy) after it.
  recv: { waitAt: 0.2 },
  recvmmsg: { waitAt: 0.2 },
  accept4: { waitAt: 0.2 },
  epoll_wait: { waitAt: 0.5 },
  poll: { waitAt: 0.5 },
  futex: { waitAt: 0.6 },
  fdatasync: { waitAt: 0.7 },
};

/** One step of a call's kernel path. */
export type KernelOp =
  | { op: 'run'; from: number; to: number }
  | { op: 'acquire'; mode: RwMode }
  | { op: 'release'; mode: RwMode }
  | { op: 'shootdown' }
  | { op: 'wait' }
  | { op: 'complete' };

const opsCache = new Map<string, readonly KernelOp[]>();

/**
 * The kernel path of a call as ops: runs of its instructions (shares [from, to) of one
 * activation of its footprint), with the lock, the shootdown and the wait at their points,
 * and `complete` (its effects: results posted, a response sent) at the end.
 */
export function kernelOps(name: string, waits: boolean): readonly KernelOp[] {
  const key = `${name}/${waits}`;
  const hit = opsCache.get(key);
  if (hit) return hit;
  const b = BEHAVIOUR[name] ?? {};
  const marks: { at: number; ops: KernelOp[] }[] = [];
  if (b.lock) {
    marks.push({ at: b.lock.from, ops: [{ op: 'acquire', mode: b.lock.mode }] });
    const release: KernelOp[] = b.shootdown ? [{ op: 'shootdown' }] : [];
    release.push({ op: 'release', mode: b.lock.mode });
    marks.push({ at: b.lock.to, ops: release });
  }
  if (waits) marks.push({ at: b.waitAt ?? 0.5, ops: [{ op: 'wait' }] });
  marks.sort((x, y) => x.at - y.at);
  const ops: KernelOp[] = [];
  let at = 0;
  for (const m of marks) {
    if (m.at > at) ops.push({ op: 'run', from: at, to: m.at });
    ops.push(...m.ops);
    at = Math.max(at, m.at);
  }
  if (at < 1) ops.push({ op: 'run', from: at, to: 1 });
  ops.push({ op: 'complete' });
  opsCache.set(key, ops);
  return ops;
}
