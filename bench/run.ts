/**
 * `npm run bench`: runs the benchmark sections (bench/sections/index.ts), prints one table
 * of their numbers and writes them to bench/results.json (one flat object, snake_case keys,
 * numbers only).
 *
 *   node dist/bench/run.js [--only NAME,NAME] [--list]
 *
 * With --only, the other sections' entries already in results.json are kept, so sections can
 * be re-measured one at a time. Exit codes: 0 ok, 1 a section failed (its entries are then
 * removed from results.json rather than left stale), 2 bad usage.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../src/paths.js';
import { writeFileAtomic } from '../src/report/files.js';
import { BenchError, type BenchContext, type BenchSection } from './section.js';
import { SECTIONS } from './sections/index.js';

const RESULTS = join(projectRoot, 'bench/results.json');
const KEY = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

function usage(message?: string): never {
  if (message) console.error(`bench: ${message}`);
  console.error(`usage: node dist/bench/run.js [--only NAME,NAME] [--list]\nsections: ${SECTIONS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): readonly BenchSection[] {
  let only: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--list') {
      for (const s of SECTIONS) console.log(`${s.name.padEnd(10)} ${s.title}`);
      process.exit(0);
    } else if (a === '--only' || a.startsWith('--only=')) {
      const value = a === '--only' ? argv[++i] : a.slice('--only='.length);
      if (!value) usage('--only needs a comma-separated list of section names');
      only = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    } else if (a === '--help' || a === '-h') {
      usage();
    } else {
      usage(`unknown argument '${a}'`);
    }
  }
  if (only === null) return SECTIONS;
  const unknown = only.filter((n) => !SECTIONS.some((s) => s.name === n));
  if (unknown.length > 0) usage(`unknown section(s) ${unknown.join(', ')}`);
  return SECTIONS.filter((s) => only!.includes(s.name));
}

/** Checks a section's numbers: finite, snake_case keys prefixed with the section's name. */
function checkResults(section: BenchSection, values: Record<string, number>): void {
  for (const [key, value] of Object.entries(values)) {
    if (!KEY.test(key) || !key.startsWith(`${section.name}_`)) {
      throw new Error(`section ${section.name} returned key '${key}': keys must be snake_case and start with '${section.name}_'`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`section ${section.name} returned ${key} = ${value}: expected a finite number`);
  }
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch {
    // not Linux: fall back to what Node reports
  }
  return cpus()[0]?.model ?? 'unknown';
}

function formatValue(key: string, v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  if (/ratio|rate|consistent/.test(key)) return v.toFixed(3);
  return v.toPrecision(6);
}

function printTable(rows: readonly [string, number][]): void {
  const w = Math.max(...rows.map(([k]) => k.length), 6);
  const values = rows.map(([k, v]) => formatValue(k, v));
  const vw = Math.max(...values.map((s) => s.length), 5);
  console.log(`\n${'metric'.padEnd(w)}  ${'value'.padStart(vw)}`);
  console.log(`${'-'.repeat(w)}  ${'-'.repeat(vw)}`);
  rows.forEach(([k], i) => console.log(`${k.padEnd(w)}  ${values[i].padStart(vw)}`));
}

function readPrevious(): Record<string, number> {
  if (!existsSync(RESULTS)) return {};
  try {
    return JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

async function main(): Promise<void> {
  const selected = parseArgs(process.argv.slice(2));
  console.log(`flexsc-sim benchmarks — node ${process.version}, ${cpuModel()}, ${cpus().length} cores`);
  const fresh = new Map<string, Record<string, number>>();
  const failed: string[] = [];
  for (const section of selected) {
    console.log(`\n== ${section.name}: ${section.title}`);
    const ctx: BenchContext = {
      root: projectRoot,
      buildDir: join(projectRoot, 'bench/build'),
      log: (line) => console.log(`   ${line}`),
    };
    try {
      const values = await section.run(ctx);
      checkResults(section, values);
      fresh.set(section.name, values);
    } catch (err) {
      failed.push(section.name);
      if (err instanceof BenchError) console.error(`\nbench: section ${section.name} FAILED: ${err.message}`);
      else console.error(`\nbench: section ${section.name} FAILED:`, err);
    }
  }

  // results.json: this run's sections, plus (with --only) the other sections' previous entries.
  const previous = readPrevious();
  const results: Record<string, number> = {};
  for (const section of SECTIONS) {
    const mine = fresh.get(section.name);
    if (mine) Object.assign(results, mine);
    else if (!selected.includes(section)) {
      for (const [k, v] of Object.entries(previous)) if (k.startsWith(`${section.name}_`)) results[k] = v;
    }
  }
  writeFileAtomic(RESULTS, `${JSON.stringify(results, null, 2)}\n`);

  const rows: [string, number][] = [];
  for (const values of fresh.values()) rows.push(...Object.entries(values));
  if (rows.length > 0) printTable(rows);
  console.log(`\nwrote ${RESULTS}`);
  if (failed.length > 0) {
    console.error(`bench: ${failed.length} section(s) failed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
