/**
 * Machine presets as validated data. A preset file (src/hw/presets/NAME.json) holds a name,
 * a description, a source for every number (`sources`, keyed by the leaf's path) and the
 * `hw` tree checked by the zod schema below: unknown keys are rejected, every number has a
 * type and a range, and cross-field rules (whole sets, TLB entries divisible by ways,
 * lines dividing pages) are checked with the offending path named.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { presetDir } from '../paths.js';

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const cycles = z.number().min(0).max(1e6);
const isPow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

const CacheLevel = z.strictObject({
  sizeKiB: z.number().positive().max(1024 * 1024),
  ways: int(1, 1024),
  latency: cycles,
});

const TlbLevel = z.strictObject({
  entries: int(1, 1 << 20),
  ways: int(1, 1 << 20),
});

export const HwSchema = z
  .strictObject({
    ghz: z.number().positive().max(20),
    cores: int(1, 256),
    lineBytes: int(4, 4096).refine(isPow2, 'must be a power of two'),
    pageBytes: int(512, 1 << 30).refine(isPow2, 'must be a power of two'),
    hugePageBytes: int(4096, 1 << 30).refine(isPow2, 'must be a power of two'),
    l1i: CacheLevel,
    l1d: CacheLevel,
    l2: CacheLevel,
    l3: CacheLevel.extend({ inclusive: z.boolean() }),
    memory: z.strictObject({ latency: cycles }),
    coherence: z.strictObject({ transferLatency: cycles }),
    tlb: z.strictObject({
      l1i: TlbLevel,
      l1d: TlbLevel,
      l1dHuge: TlbLevel,
      l2: TlbLevel.extend({ latency: cycles, holdsHuge: z.boolean() }),
      walkLatency: cycles,
    }),
    branch: z.strictObject({
      btbEntries: int(1, 1 << 20),
      btbWays: int(1, 1 << 20),
      mispredictPenalty: cycles,
    }),
    prefetch: z.strictObject({
      enabled: z.boolean(),
      adjacentLine: z.boolean(),
      streamDegree: int(0, 64),
      fillLevel: z.enum(['l2', 'l3']),
    }),
    core: z.strictObject({
      dataMissOverlap: z.number().min(0).max(1),
      robInstructions: int(1, 4096),
      /** Latency of one `pause` instruction (spin-wait loops). */
      pauseCycles: int(1, 10_000),
    }),
    /**
     * false: the pollution ablation (DESIGN.md §6b) — user and kernel code each have their
     * own copy of every cache, TLB and BTB, so neither evicts the other's lines.
     */
    crossModeEviction: z.boolean(),
    modeSwitch: z.strictObject({
      entryCycles: cycles,
      exitCycles: cycles,
      exceptionEntryCycles: cycles,
      exceptionExitCycles: cycles,
      pipelineRefillCycles: cycles,
      kpti: z.enum(['off', 'pcid', 'nopcid']),
      cr3WriteCycles: cycles,
      exitMitigationCycles: cycles,
    }),
  })
  .superRefine((hw, ctx) => {
    if (hw.pageBytes % hw.lineBytes !== 0) {
      ctx.addIssue({ code: 'custom', path: ['lineBytes'], message: `must divide pageBytes (${hw.pageBytes})` });
    }
    if (hw.hugePageBytes <= hw.pageBytes) {
      ctx.addIssue({ code: 'custom', path: ['hugePageBytes'], message: `must exceed pageBytes (${hw.pageBytes})` });
    }
    for (const level of ['l1i', 'l1d', 'l2', 'l3'] as const) {
      const c = hw[level];
      const sets = (c.sizeKiB * 1024) / (c.ways * hw.lineBytes);
      if (!Number.isInteger(sets) || sets < 1) {
        ctx.addIssue({
          code: 'custom',
          path: [level, 'sizeKiB'],
          message: `${c.sizeKiB} KiB is not a whole number of sets of ${c.ways} ways × ${hw.lineBytes} B lines`,
        });
      }
    }
    for (const level of ['l1i', 'l1d', 'l1dHuge', 'l2'] as const) {
      const t = hw.tlb[level];
      if (t.entries % t.ways !== 0) {
        ctx.addIssue({ code: 'custom', path: ['tlb', level, 'entries'], message: `${t.entries} entries is not a multiple of ${t.ways} ways` });
      }
    }
    if (hw.branch.btbEntries % hw.branch.btbWays !== 0) {
      ctx.addIssue({ code: 'custom', path: ['branch', 'btbEntries'], message: `not a multiple of btbWays (${hw.branch.btbWays})` });
    }
  });

export type HwConfig = z.infer<typeof HwSchema>;

export const PresetSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
  description: z.string().min(1),
  sources: z.record(z.string(), z.string().min(1)),
  hw: HwSchema,
});
export type Preset = z.infer<typeof PresetSchema>;

/** Formats zod issues as "prefix.path: message" lines. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: string): string {
  return issues
    .map((i) => {
      const path = [prefix, ...i.path.map(String)].filter((s) => s !== '').join('.');
      return `${path}: ${i.message}`;
    })
    .join('\n');
}

export function presetNames(): string[] {
  return readdirSync(presetDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

const presetCache = new Map<string, Preset>();

/** Loads and validates a preset by name; an unknown name is an InputError listing the known ones. */
export function loadPreset(name: string): Preset {
  const cached = presetCache.get(name);
  if (cached) return structuredClone(cached);
  const names = presetNames();
  if (!names.includes(name)) {
    throw new InputError(`unknown machine '${name}': expected one of ${names.join(', ')}`);
  }
  const file = join(presetDir, `${name}.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = PresetSchema.safeParse(raw);
  if (!parsed.success) throw new InputError(`${file}: invalid preset\n${formatIssues(parsed.error.issues, '')}`);
  if (parsed.data.name !== name) throw new InputError(`${file}: name '${parsed.data.name}' does not match the file name`);
  presetCache.set(name, parsed.data);
  return structuredClone(parsed.data);
}
