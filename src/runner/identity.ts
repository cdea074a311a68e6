/**
 * What makes a result: the fields a point's rows depend on. Two results may be combined
 * (partial results resumed into a run, shards merged into one CSV) only if these agree,
 * field by field; when they do not, the message names the first field that differs.
 *
 * The `code` field is a fingerprint of the simulator itself (its compiled modules and the
 * data files it reads, see `code-fingerprint.ts`): an edit of the model between an
 * interrupted run and its `--resume`, or between two shards, changes the numbers without
 * changing the tool version, and must not be mixed in silently.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Point } from '../experiment.js';
import type { RunConfig } from '../run-config.js';

export interface RunIdentity {
  /** flexsc-sim version (package.json). */
  version: string;
  /** Fingerprint of the simulator's code and data files. */
  code: string;
  experiment: string;
  /**
   * A user experiment's file, hashed: it holds more than the grid (requests, replications,
   * overrides), so results of an edited file are never resumed or merged. '' for built-ins.
   */
  file: string;
  machine: string;
  overrides: string[];
  seed: number;
  quick: boolean;
  /** `--replications`: independent runs averaged per point. */
  replications: number;
  /** The experiment's parameter points, in grid order. */
  grid: Point[];
  /** The effective configuration (machine preset + overrides). */
  config: RunConfig;
}

/** The fields of a RunIdentity in the order they are compared and reported. */
export const IDENTITY_FIELDS = ['version', 'code', 'experiment', 'file', 'machine', 'overrides', 'seed', 'quick', 'replications', 'grid', 'config'] as const;
export type IdentityField = (typeof IDENTITY_FIELDS)[number];

/** JSON with object keys sorted, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
  });
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** sha256 of a file's bytes (an experiment file, for the `file` identity field). */
export function fileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * The key of one point of a run: a hash of the identity fields (the grid reduced to this
 * point and its index) — a partial result is reused only under the same key.
 */
export function pointKey(id: RunIdentity, index: number, point: Point): string {
  const { grid: _grid, ...rest } = id;
  return sha256(canonicalJson({ ...rest, config: sha256(canonicalJson(id.config)), index, point }));
}

/** A compact summary of an identity for files that must be compared later (config hashed). */
export interface IdentityRecord {
  version: string;
  code: string;
  experiment: string;
  file: string;
  machine: string;
  overrides: string[];
  seed: number;
  quick: boolean;
  replications: number;
  grid: Point[];
  /** sha256 of the canonical effective configuration. */
  config: string;
}

export function identityRecord(id: RunIdentity): IdentityRecord {
  return { ...id, config: sha256(canonicalJson(id.config)) };
}

function show(field: IdentityField, value: unknown): string {
  if (field === 'overrides') {
    const list = value as string[];
    return list.length ? list.map((o) => `--set ${o}`).join(' ') : 'no --set';
  }
  if (field === 'code' || field === 'config') return String(value).slice(0, 12);
  if (field === 'file') return value === '' ? 'no experiment file' : `experiment file sha256 ${String(value).slice(0, 12)}`;
  if (field === 'grid') return `${(value as unknown[]).length} points`;
  return JSON.stringify(value);
}

/**
 * The first identity field in which `a` and `b` differ, with both values shown, or
 * undefined when they agree.
 */
export function identityDifference(a: IdentityRecord, b: IdentityRecord): { field: IdentityField; a: string; b: string } | undefined {
  for (const field of IDENTITY_FIELDS) {
    if (canonicalJson(a[field]) !== canonicalJson(b[field])) {
      let sa = show(field, a[field]);
      let sb = show(field, b[field]);
      if (field === 'grid' && sa === sb) {
        sa = canonicalJson(a.grid);
        sb = canonicalJson(b.grid);
      }
      return { field, a: sa, b: sb };
    }
  }
  return undefined;
}
