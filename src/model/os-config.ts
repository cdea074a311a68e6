/**
 * Operating-system and FlexSC mechanism constants: the `os` part of a run's configuration,
 * beside the machine's `hw`. Defaults live in `os-defaults.json` with a source for every
 * number (calibrated on the paper's Figs. 9–10, or stated as estimates); any leaf can be
 * overridden with `--set os.flexsc.pagesPerCore=4`. The schema rejects unknown keys and
 * out-of-range values, naming the path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { projectRoot } from '../paths.js';

const count = (max: number) => z.number().int().min(0).max(max);

/** A syscall-core list: "all", or core numbers separated by commas. */
const CoreList = z.string().regex(/^(all|\d+(,\d+)*)$/, 'expected "all" or core numbers separated by commas, e.g. "1,2"');

export const OsSchema = z.strictObject({
  scheduler: z.strictObject({
    timesliceUs: z.number().positive().max(1e6),
    latencyUs: z.number().min(0).max(1e7),
    wakeupGranularityUs: z.number().min(0).max(1e7),
    migrationCostUs: z.number().min(0).max(1e7),
    balancer: z.enum(['eager', '2.6.33']),
    idleBalanceUs: z.number().positive().max(1e7),
    tickInstructions: count(1e6),
    contextSwitch: z.strictObject({
      instructions: count(1e6),
      baseCpi: z.number().positive().max(100),
      codeLines: count(4096),
      dataLines: count(4096),
      taskLines: count(64),
    }),
  }),
  idle: z.strictObject({
    exitCycles: z.number().min(0).max(1e8),
    deeper: z.array(z.strictObject({ afterUs: z.number().min(0).max(1e8), exitCycles: z.number().min(0).max(1e9) })).max(8),
    governor: z.enum(['ladder', 'menu']),
  }),
  ipi: z.strictObject({
    sendCycles: z.number().min(0).max(1e6),
    latencyCycles: z.number().min(0).max(1e8),
    handlerInstructions: count(1e6),
    shootdownAcks: z.enum(['fixed', 'targets']),
  }),
  flexsc: z.strictObject({
    baseCpi: z.number().positive().max(100),
    pagesPerCore: z.number().int().min(1).max(4096),
    postInstructions: count(1e5),
    dispatchInstructions: count(1e5),
    completeInstructions: count(1e5),
    waitInstructions: count(1e5),
    handoffInstructions: count(1e5),
    scanInstructions: count(1e5),
    userSwitchInstructions: count(1e5),
    preemptOnWake: z.boolean(),
    syscallCores: CoreList,
    stealReady: z.boolean(),
  }),
});
export type OsConfig = z.infer<typeof OsSchema>;

const DefaultsFile = z.strictObject({
  description: z.string(),
  sources: z.record(z.string(), z.string().min(1)),
  os: OsSchema,
});

export const OS_DEFAULTS_FILE = join(projectRoot, 'src/model/os-defaults.json');

let defaults: z.infer<typeof DefaultsFile> | undefined;

function load(): z.infer<typeof DefaultsFile> {
  if (!defaults) defaults = DefaultsFile.parse(JSON.parse(readFileSync(OS_DEFAULTS_FILE, 'utf8')));
  return defaults;
}

/** A fresh copy of the default OS configuration. */
export function defaultOsConfig(): OsConfig {
  return structuredClone(load().os);
}

/** The source of every default, keyed by its path (e.g. `os.ipi.latencyCycles`). */
export function osSources(): Record<string, string> {
  return { ...load().sources };
}

/** The syscall cores of a configuration, for a machine of `cores` cores. */
export function syscallCoreList(os: OsConfig, cores: number): number[] {
  if (os.flexsc.syscallCores === 'all') return Array.from({ length: cores }, (_, i) => i);
  const list = os.flexsc.syscallCores.split(',').map(Number);
  for (const c of list) {
    if (c >= cores) throw new RangeError(`os.flexsc.syscallCores: core ${c} does not exist on a ${cores}-core machine`);
  }
  return list;
}
