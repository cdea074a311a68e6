/**
 * Calibrates the per-syscall kernel footprints on the paper's Table 1 and writes
 * src/model/syscall-shapes.json. Run: `npm run build && node dist/scripts/calibrate-table1.js`.
 *
 * Each round measures Table 1 (the experiment's own method) and moves each syscall's
 * parameters toward the paper's row: code lines toward the i-cache evictions, 4 KB-page
 * lines toward the d-TLB evictions, contiguous data toward the d-cache evictions, slab
 * objects toward the L2 evictions, the share of wide (512 B) objects toward the L3
 * evictions, and the base CPI toward the cycles. Rows that combine calls split each correction by the calls' share of
 * instructions; open and close take their open+close correction only.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { buildRunConfig } from '../src/run-config.js';
import { SHAPES_FILE, withShape, type SyscallShape, type SyscallSpec } from '../src/model/syscalls.js';
import { loadReference } from '../src/report/reference.js';
import { TABLE1_ROWS, measureTable1 } from '../src/workloads/micro/section2.js';

const rounds = Number(process.argv[2] ?? 4);
const hw = buildRunConfig('nehalem-2010').hw;
const paper = new Map(loadReference('table1-syscall-footprint.csv').map((r) => [String(r.syscall), r]));
const shapes = JSON.parse(readFileSync(SHAPES_FILE, 'utf8')) as Record<string, SyscallShape>;

/** Which rows tune which calls (write only from its own row; open/close from open+close). */
const TUNES: Record<string, string[]> = {
  stat: ['stat'],
  pread: ['pread'],
  pwrite: ['pwrite'],
  'open+close': ['open', 'close'],
  'mmap+munmap': ['mmap', 'munmap'],
  'open+write+close': ['write'],
};

for (let round = 0; round <= rounds; round++) {
  const syscalls: Record<string, SyscallSpec> = Object.fromEntries(Object.entries(shapes).map(([n, s]) => [n, withShape(n, s)]));
  const rows = measureTable1(hw, { gap: 10_000_000, repetitions: 1, seed: 1, syscalls });
  console.log(`round ${round}`);
  for (const row of rows) {
    const p = paper.get(row.syscall)!;
    const cols = ['ipc', 'icache_lines_evicted', 'dcache_lines_evicted', 'l2_lines_evicted', 'l3_lines_evicted', 'dtlb_entries_evicted'] as const;
    console.log(
      row.syscall.padEnd(17) +
        cols.map((c) => `${c.split('_')[0]} ${Number(row[c]).toFixed(c === 'ipc' ? 2 : 0)}/${p[c]} (${((Number(row[c]) / Number(p[c]) - 1) * 100).toFixed(0)}%)`).join('  '),
    );
    if (round === rounds) continue;
    const targets = TUNES[row.syscall];
    const calls = TABLE1_ROWS.find((r) => r.label === row.syscall)!.calls;
    const total = calls.reduce((a, c) => a + shapes[c].instructions, 0);
    for (const name of targets) {
      const s = shapes[name];
      const share = s.instructions / total;
      const dCode = (Number(p.icache_lines_evicted) - row.icache_lines_evicted) * share;
      const dPages = (Number(p.dtlb_entries_evicted) - row.dtlb_entries_evicted) * share;
      const dData = (Number(p.dcache_lines_evicted) - row.dcache_lines_evicted) * share - dPages;
      const dObj = (Number(p.l2_lines_evicted) - row.l2_lines_evicted) * share - dCode - dPages - dData;
      s.codeLines = Math.max(0, Math.round(s.codeLines + dCode));
      s.pageLines = Math.max(0, Math.round(s.pageLines + dPages));
      s.dataLines = Math.max(0, Math.round(s.dataLines + dData));
      s.objectLines = Math.max(0, Math.round(s.objectLines + dObj));
      // Each wide-object line brings about 4 more prefetched lines into the L3 than a
      // narrow one: move the share toward the L3 evictions.
      const dL3 = (Number(p.l3_lines_evicted) - row.l3_lines_evicted) * share;
      if (s.objectLines > 0) s.wideObjectShare = Math.min(1, Math.max(0, +(s.wideObjectShare + dL3 / (4 * s.objectLines)).toFixed(3)));
      const targetCycles = Number(p.instructions) / Number(p.ipc);
      s.baseCpi = Math.max(0.25, +(s.baseCpi + (targetCycles - row.cycles) / row.instructions).toFixed(3));
    }
  }
}
writeFileSync(SHAPES_FILE, JSON.stringify(shapes, null, 2) + '\n');
console.log(`wrote ${SHAPES_FILE}`);
