/**
 * The effective configuration of a run: the machine (`hw`, from a preset), the operating
 * system and FlexSC mechanism constants (`os`, from `src/model/os-defaults.json`), plus
 * every `--set path=value` override, validated as a whole. It is written into each run's
 * `ID.meta.json`, so a result always says exactly which machine and OS produced it.
 */
import { z } from 'zod';
import { InputError } from './errors.js';
import { HwSchema, formatIssues, loadPreset, type HwConfig } from './hw/machine-config.js';
import { OsSchema, defaultOsConfig, type OsConfig } from './model/os-config.js';

export const RunConfigSchema = z.strictObject({ hw: HwSchema, os: OsSchema }).superRefine((c, ctx) => {
  if (c.os.flexsc.syscallCores !== 'all') {
    for (const core of c.os.flexsc.syscallCores.split(',').map(Number)) {
      if (core >= c.hw.cores) {
        ctx.addIssue({ code: 'custom', path: ['os', 'flexsc', 'syscallCores'], message: `core ${core} does not exist on a ${c.hw.cores}-core machine (hw.cores)` });
      }
    }
  }
});
export interface RunConfig {
  hw: HwConfig;
  os: OsConfig;
}

export interface Override {
  path: string;
  value: string;
}

/** Parses `path=value` (as given to --set). */
export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) {
    throw new InputError(`--set '${text}': expected path=value, e.g. hw.l1d.sizeKiB=64`);
  }
  return { path: text.slice(0, eq).trim(), value: text.slice(eq + 1).trim() };
}

type Tree = Record<string, unknown>;

/**
 * Applies one override to a config tree in place. The path must name an existing leaf; the
 * value is parsed as the leaf's type (number, boolean, string, or a JSON array for a list). Range and cross-field
 * checks happen when the whole tree is validated.
 */
export function applyOverride(config: Tree, { path, value }: Override): void {
  const parts = path.split('.');
  let node: Tree = config;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = node[parts[i]];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      throw new InputError(`--set ${path}: unknown path (no section '${parts.slice(0, i + 1).join('.')}'); known keys here: ${Object.keys(node).join(', ')}`);
    }
    node = next as Tree;
  }
  const leaf = parts[parts.length - 1];
  if (!(leaf in node)) {
    throw new InputError(`--set ${path}: unknown key '${leaf}'; known keys here: ${Object.keys(node).join(', ')}`);
  }
  const current = node[leaf];
  if (typeof current === 'number') {
    const n = Number(value);
    if (value === '' || !Number.isFinite(n)) throw new InputError(`--set ${path}=${value}: expected a number`);
    node[leaf] = n;
  } else if (typeof current === 'boolean') {
    if (value !== 'true' && value !== 'false') throw new InputError(`--set ${path}=${value}: expected true or false`);
    node[leaf] = value === 'true';
  } else if (typeof current === 'string') {
    node[leaf] = value;
  } else if (Array.isArray(current)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed)) throw new InputError(`--set ${path}=${value}: expected a JSON array, e.g. ${path}=[] or ${path}=${JSON.stringify(current.length > 0 ? current : [{}])}`);
    node[leaf] = parsed;
  } else {
    throw new InputError(`--set ${path}: is a section, not a value; set one of its keys: ${Object.keys(current as Tree).join(', ')}`);
  }
}

/** Builds the validated run configuration from a machine preset and overrides. */
export function buildRunConfig(machine: string, overrides: readonly string[] = []): RunConfig {
  const preset = loadPreset(machine);
  const config: Tree = { hw: preset.hw, os: defaultOsConfig() };
  for (const text of overrides) applyOverride(config, parseOverride(text));
  const parsed = RunConfigSchema.safeParse(config);
  if (!parsed.success) {
    throw new InputError(`invalid configuration (machine ${machine}${overrides.length ? ', with --set ' + overrides.join(' ') : ''}):\n${formatIssues(parsed.error.issues, '')}`);
  }
  return parsed.data;
}
