/**
 * Extracts the servers' per-request syscall scripts from the strace fixtures
 * (test/fixtures/strace) into src/workloads/server/mixes.json, and refreshes the generated
 * tables of src/workloads/server/MIXES.md. How: src/workloads/server/extract.ts.
 *
 *   npm run build && node dist/scripts/extract-mixes.js [--check]
 *
 * With --check nothing is written: the exit code is 1 when either file is not what the
 * fixtures give (test/mixes.test.ts checks the same).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../src/paths.js';
import { extractMixes, stableJSON } from '../src/workloads/server/extract.js';
import { updateMarkdown } from '../src/workloads/server/markdown.js';
import { MIXES_FILE } from '../src/workloads/server/mixes.js';

const MARKDOWN_FILE = join(projectRoot, 'src/workloads/server/MIXES.md');

const check = process.argv.includes('--check');
const mixes = await extractMixes();
const json = stableJSON(mixes);
const md = updateMarkdown(readFileSync(MARKDOWN_FILE, 'utf8'), mixes);

if (check) {
  let stale = false;
  for (const [file, text] of [
    [MIXES_FILE, json],
    [MARKDOWN_FILE, md],
  ] as const) {
    if (readFileSync(file, 'utf8') !== text) {
      console.error(`${file}: not what the fixtures give (run node dist/scripts/extract-mixes.js)`);
      stale = true;
    }
  }
  process.exitCode = stale ? 1 : 0;
} else {
  writeFileSync(MIXES_FILE, json);
  writeFileSync(MARKDOWN_FILE, md);
  for (const [id, m] of Object.entries(mixes.servers)) {
    const t = m.match.total;
    console.log(
      `${id}: ${m.script.steps.length} steps, ${t.script} calls per ${m.source.unit} (recording ${t.recording}, ` +
        `difference ${t.difference}${Object.values(m.match.perSyscall).every((r) => r.ok) && t.ok ? ', every syscall within tolerance' : ', OUT OF TOLERANCE'})`,
    );
  }
  console.log(`wrote ${MIXES_FILE} and ${MARKDOWN_FILE}`);
}
