/**
 * table1: the footprint of six system calls (paper Table 1), measured the paper's way —
 * issued from a counter-overflow interrupt into a Xalan-like program after 10 M user
 * instructions, counting only the application's lines and entries each call evicts.
 * This table is the calibration source of the per-syscall kernel footprints
 * (scripts/calibrate-table1.ts), so agreement is by construction; it shows that one set
 * of hardware parameters and one footprint per syscall reproduce every column at once.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Experiment, Point, PointContext } from '../src/experiment.js';
import type { Row } from '../src/report/csv.js';
import { loadReference } from '../src/report/reference.js';
import { TABLE1_ROWS, measureTable1Row } from '../src/workloads/micro/section2.js';

const COLUMNS = ['ipc', 'icache_lines_evicted', 'dcache_lines_evicted', 'l2_lines_evicted', 'l3_lines_evicted', 'dtlb_entries_evicted'] as const;

export const table1: Experiment = {
  id: 'table1',
  title: 'System call footprint: kernel IPC and application lines evicted per call',
  reproduces: 'Table 1',
  description: 'Six syscalls issued from a counter-overflow interrupt into a warmed Xalan-like program every 10 M instructions; kernel IPC and the user lines/entries each evicts from L1i, L1d, L2, L3 and the d-TLB.',
  grid(): Point[] {
    return TABLE1_ROWS.map((r) => ({ syscall: r.label }));
  },
  columns: ['syscall', 'instructions', 'cycles', 'ipc', ...COLUMNS.slice(1)],
  precision: { instructions: 0, cycles: 0, ipc: 3, icache_lines_evicted: 1, dcache_lines_evicted: 1, l2_lines_evicted: 1, l3_lines_evicted: 1, dtlb_entries_evicted: 1 },
  run(point: Point, ctx: PointContext): Row[] {
    const row = TABLE1_ROWS.find((r) => r.label === point.syscall);
    if (!row) throw new Error(`table1: no row ${String(point.syscall)}`);
    const m = measureTable1Row(ctx.config.hw, row, { gap: ctx.quick ? 2_000_000 : 10_000_000, repetitions: ctx.quick ? 1 : 3, seed: ctx.seed });
    return [{ ...m }];
  },
  plot(rows: Row[]): TopLevelSpec {
    const paper = new Map(loadReference('table1-syscall-footprint.csv').map((r) => [String(r.syscall), r]));
    const ratios = rows.flatMap((r) =>
      COLUMNS.map((c) => ({ syscall: String(r.syscall), column: c, ratio: Number(r[c]) / Number(paper.get(String(r.syscall))?.[c] ?? NaN) })),
    );
    return {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: { text: 'Table 1: model / paper, per syscall and column', subtitle: 'band: ±15 %' },
      width: 520,
      height: 280,
      layer: [
        { data: { values: [{ lo: 0.85, hi: 1.15 }] }, mark: { type: 'rect', color: '#ddd' }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
        {
          data: { values: ratios },
          mark: { type: 'point', filled: true, size: 60 },
          encoding: {
            x: { field: 'syscall', type: 'nominal', title: null, sort: null },
            xOffset: { field: 'column', type: 'nominal' },
            y: { field: 'ratio', type: 'quantitative', title: 'model / paper', scale: { domain: [0, 2] } },
            color: { field: 'column', type: 'nominal', title: 'column' },
          },
        },
      ],
    } as unknown as TopLevelSpec;
  },
  summarize(rows: Row[]): string[] {
    const paper = new Map(loadReference('table1-syscall-footprint.csv').map((r) => [String(r.syscall), r]));
    const lines = ['| syscall | IPC | i-cache | d-cache | L2 | L3 | d-TLB |', '|---|---|---|---|---|---|---|'];
    for (const r of rows) {
      const p = paper.get(String(r.syscall))!;
      lines.push(`| ${r.syscall} | ${COLUMNS.map((c) => `${Number(r[c]).toFixed(c === 'ipc' ? 2 : 0)} (${p[c]})`).join(' | ')} |`);
    }
    lines.push('', 'Model (paper). Calibration target: the kernel footprints are fitted to this table.');
    return lines;
  },
};
