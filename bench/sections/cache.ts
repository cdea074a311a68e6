/**
 * Section "cache": how fast CacheArray serves references, against a minimal C cache
 * simulator (bench/cache-ref.c, compiled with gcc -O2 at run time) on identical streams.
 *
 * Four streams of line keys, generated once from a seeded PRNG and written to a file that the
 * C program reads, so both sides see exactly the same references:
 *  - sequential: 8-byte words read in address order, so each line is referenced 8 times in a
 *    row (a scan or copy loop; mostly hits on the most recently used line);
 *  - random_1_5x: uniform random lines within 1.5 × the cache's capacity (a mix of hits and
 *    misses in every set);
 *  - random_64mb: uniform random lines over 64 MB (almost all misses);
 *  - one_set_stride: a stride of (sets × 64 B), cycling over 2 × ways lines that all map to one
 *    set (every reference misses after searching a full set: the worst case for LRU).
 * Three of the four live above 2^32 lines (user heap/stack-like addresses), as valgrind
 * traces do, so the key arithmetic is exercised where 32-bit shortcuts would break.
 *
 * Two geometries: L1-like (32 KiB, 8-way, 64 B lines) and L3-like (8 MiB, 16-way). The two
 * sides take turns (TURNS × RUNS_PER_TURN runs each, every run from an empty cache), and each
 * keeps its fastest run; the
 * miss counts and eviction counters must be equal or the section fails. Both sides time
 * their reference loop alone in process CPU time (not wall time: a machine shared with other
 * work deschedules either side at random), so the ratio is of work done per CPU second.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CacheArray, USER, type ExecMode } from '../../src/hw/cache-array.js';
import { StreamRng, cpuSeconds, formatRate } from '../lib/measure.js';
import { compileC, run } from '../lib/tools.js';
import { BenchError, type BenchContext, type BenchSection } from '../section.js';

const LINE = 64;
/** References per stream. */
const REFS = 4_000_000;
/** Turns per stream (the sides alternate) and timed runs per side and turn; the fastest run counts. */
const TURNS = 10;
const RUNS_PER_TURN = 3;
const SEED = 20101004; // OSDI'10 opened on 4 October 2010

interface Geometry {
  name: string;
  sizeBytes: number;
  ways: number;
}

const GEOMETRIES: readonly Geometry[] = [
  { name: 'l1', sizeBytes: 32 * 1024, ways: 8 },
  { name: 'l3', sizeBytes: 8 * 1024 * 1024, ways: 16 },
];

interface Stream {
  name: string;
  keys: Float64Array;
}

function streams(g: Geometry): Stream[] {
  const sets = g.sizeBytes / (LINE * g.ways);
  const capacityLines = g.sizeBytes / LINE;
  const rng = new StreamRng(SEED);
  const line = (addr: number) => Math.floor(addr / LINE);

  const sequential = new Float64Array(REFS);
  const seqBase = line(0x400000);
  for (let i = 0; i < REFS; i++) sequential[i] = seqBase + Math.floor(i / 8);

  const random15 = new Float64Array(REFS);
  const heapBase = line(0x5555_5555_4000);
  const span15 = Math.floor(1.5 * capacityLines);
  for (let i = 0; i < REFS; i++) random15[i] = heapBase + rng.below(span15);

  const random64 = new Float64Array(REFS);
  const mmapBase = line(0x7f00_0000_0000);
  const span64 = (64 * 1024 * 1024) / LINE;
  for (let i = 0; i < REFS; i++) random64[i] = mmapBase + rng.below(span64);

  const stride = new Float64Array(REFS);
  const stackBase = line(0x7ffc_0000_0000);
  const cycle = 2 * g.ways;
  for (let i = 0; i < REFS; i++) stride[i] = stackBase + (i % cycle) * sets;

  return [
    { name: 'sequential', keys: sequential },
    { name: 'random_1_5x', keys: random15 },
    { name: 'random_64mb', keys: random64 },
    { name: 'one_set_stride', keys: stride },
  ];
}

interface SideResult {
  misses: number;
  evictions: number[];
  bestSeconds: number;
}

/**
 * The timed loop (a plain function, so the counter stays in a register). Space and mode are
 * locals, as in the simulator's callers (and as the C loop's constants): an imported binding
 * read in the loop would add a module-cell load and hole check per reference.
 */
function countMisses(a: CacheArray, keys: Float64Array): number {
  const space = 0;
  const mode: ExecMode = USER;
  let misses = 0;
  for (let i = 0; i < keys.length; i++) if (!a.access(keys[i], space, mode)) misses++;
  return misses;
}

/** One timed run of the JavaScript side from an empty array: CacheArray.access on every key, as the `cache` command uses it. */
function runJsOnce(g: Geometry, keys: Float64Array): SideResult {
  const a = new CacheArray({ sets: g.sizeBytes / (LINE * g.ways), ways: g.ways });
  const t0 = cpuSeconds();
  const misses = countMisses(a, keys);
  const t = cpuSeconds() - t0;
  return { misses, evictions: Array.from(a.evictions), bestSeconds: t };
}

/** RUNS_PER_TURN timed runs of the C reference (its own CPU clock around its reference loop only); the fastest. */
function runC(binary: string, g: Geometry, file: string): SideResult {
  const sets = g.sizeBytes / (LINE * g.ways);
  const r = run(binary, [String(sets), String(g.ways), file, String(RUNS_PER_TURN)]);
  if (r.status !== 0) throw new BenchError(`${binary} failed (exit ${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { refs: number; misses: number; evictions: number[]; best_seconds: number };
  if (out.refs !== REFS) throw new BenchError(`cache-ref read ${out.refs} references from ${file}, expected ${REFS}`);
  return { misses: out.misses, evictions: out.evictions, bestSeconds: out.best_seconds };
}

/**
 * Alternates the two sides TURNS times (so a machine busy with other work slows both alike),
 * RUNS_PER_TURN runs each per turn, and keeps each side's fastest run.
 */
function measure(binary: string, g: Geometry, file: string, keys: Float64Array): { js: SideResult; c: SideResult } {
  let js: SideResult | null = null;
  let c: SideResult | null = null;
  for (let turn = 0; turn < TURNS; turn++) {
    const cr = runC(binary, g, file);
    if (c === null || cr.bestSeconds < c.bestSeconds) c = cr;
    for (let run = 0; run < RUNS_PER_TURN; run++) {
      const jr = runJsOnce(g, keys);
      if (js === null || jr.bestSeconds < js.bestSeconds) js = jr;
    }
  }
  return { js: js!, c: c! };
}

export const cacheSection: BenchSection = {
  name: 'cache',
  title: 'CacheArray references/s vs a minimal C LRU simulator (gcc -O2), identical streams',
  async run(ctx: BenchContext) {
    const binary = join(ctx.buildDir, 'cache-ref');
    compileC(join(ctx.root, 'bench/cache-ref.c'), binary, ctx.log);
    const dir = join(ctx.buildDir, 'streams');
    mkdirSync(dir, { recursive: true });

    const out: Record<string, number> = {};
    let minRatio = Infinity;
    ctx.log(`${'stream'.padEnd(18)} ${'miss rate'.padStart(9)} ${'js refs/s'.padStart(12)} ${'c refs/s'.padStart(12)} ${'js/c'.padStart(6)}`);
    for (const g of GEOMETRIES) {
      for (const s of streams(g)) {
        const file = join(dir, `${g.name}-${s.name}.f64`);
        writeFileSync(file, new Uint8Array(s.keys.buffer, s.keys.byteOffset, s.keys.byteLength));
        const { js, c } = measure(binary, g, file, s.keys);
        const id = `${g.name}_${s.name}`;
        if (js.misses !== c.misses || js.evictions.join() !== c.evictions.join()) {
          throw new BenchError(
            `cache ${id}: CacheArray and the C reference disagree: misses ${js.misses} vs ${c.misses}, evictions [${js.evictions}] vs [${c.evictions}]`,
          );
        }
        const jsRate = REFS / js.bestSeconds;
        const cRate = REFS / c.bestSeconds;
        const ratio = jsRate / cRate;
        minRatio = Math.min(minRatio, ratio);
        out[`cache_${id}_js_refs_per_s`] = Math.round(jsRate);
        out[`cache_${id}_c_refs_per_s`] = Math.round(cRate);
        out[`cache_${id}_ratio_vs_c`] = ratio;
        out[`cache_${id}_miss_rate`] = js.misses / REFS;
        ctx.log(
          `${`${g.name} ${s.name}`.padEnd(18)} ${(js.misses / REFS).toFixed(3).padStart(9)} ${formatRate(jsRate).padStart(12)} ${formatRate(cRate).padStart(12)} ${ratio.toFixed(2).padStart(6)}`,
        );
      }
    }
    out.cache_ratio_vs_c_min = minRatio;
    return out;
  },
};
