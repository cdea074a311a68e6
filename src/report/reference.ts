/**
 * The paper's published numbers, read from the CSV copies in `reference/` (see its README
 * for sources). Numeric-looking fields become numbers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { referenceDir } from '../paths.js';

export type ReferenceRow = Record<string, string | number>;

const cache = new Map<string, ReferenceRow[]>();

export function loadReference(file: string): ReferenceRow[] {
  const hit = cache.get(file);
  if (hit) return hit;
  const text = readFileSync(join(referenceDir, file), 'utf8');
  const rows = parse(text, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  const typed = rows.map((r) => {
    const out: ReferenceRow = {};
    for (const [k, v] of Object.entries(r)) out[k] = v !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
    return out;
  });
  cache.set(file, typed);
  return typed;
}
