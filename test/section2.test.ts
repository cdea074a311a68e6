/**
 * Calibration targets of the paper's Section 2, with the tolerances the project committed
 * to. These run the experiments' own code on the default machine (nehalem-2010).
 */
import { expect } from 'chai';
import { FIG1_BEFORE, FIG1_WINDOW, fig1, fig2, fig3, fig4 } from '../experiments/section2-figures.js';
import { table1 } from '../experiments/table1.js';
import type { Experiment, Point } from '../src/experiment.js';
import type { Row } from '../src/report/csv.js';
import { loadReference } from '../src/report/reference.js';
import { buildRunConfig } from '../src/run-config.js';
import { pointSeed } from '../src/seed.js';
import { summarizeWindows } from '../src/workloads/micro/section2.js';

const config = buildRunConfig('nehalem-2010');

function runPoints(exp: Experiment, points: Point[]): Row[] {
  return points.flatMap((p) => exp.run(p, { config, seed: pointSeed(exp.id, p, 1), quick: false }));
}

describe('Section 2 calibration (slow)', function () {
  this.timeout(600000);

  it('table1: kernel IPC and every eviction column within ±15 % of the paper, every row', () => {
    const rows = runPoints(table1, table1.grid(false));
    const paper = new Map(loadReference('table1-syscall-footprint.csv').map((r) => [String(r.syscall), r]));
    const cols = ['ipc', 'icache_lines_evicted', 'dcache_lines_evicted', 'l2_lines_evicted', 'l3_lines_evicted', 'dtlb_entries_evicted'];
    const misses: string[] = [];
    for (const r of rows) {
      const p = paper.get(String(r.syscall))!;
      for (const c of cols) {
        const ratio = Number(r[c]) / Number(p[c]);
        if (ratio < 0.85 || ratio > 1.15) misses.push(`${r.syscall}.${c}: model ${Number(r[c]).toFixed(2)} vs paper ${p[c]}`);
      }
    }
    expect(misses).to.deep.equal([]);
  });

  for (const [exp, workload, tol] of [[fig2, 'xalan', 5], [fig3, 'specjbb', 7]] as const) {
    it(`${exp.id} (${workload}): total and direct within ±${tol} points for 1K–20K; totals decreasing`, () => {
      const spacings = [1000, 2000, 5000, 10000, 20000];
      const rows = runPoints(exp, spacings.map((n) => ({ instructions_between_syscalls: n })));
      const ref = loadReference('fig2-fig3-user-ipc-degradation.csv').filter((r) => r.workload === workload);
      const misses: string[] = [];
      for (const r of rows) {
        const p = ref.find((x) => x.instructions_between_syscalls === r.instructions_between_syscalls)!;
        for (const [col, pcol] of [['total_pwrite_pct', 'total_pwrite_pct'], ['direct_null_pct', 'direct_null_pct']]) {
          const diff = Number(r[col]) - Number(p[pcol]);
          if (Math.abs(diff) > tol) misses.push(`N=${r.instructions_between_syscalls} ${col}: model ${Number(r[col]).toFixed(1)} vs paper ${p[pcol]}`);
        }
      }
      expect(misses).to.deep.equal([]);
      const totals = rows.map((r) => Number(r.total_pwrite_pct));
      for (let i = 1; i < totals.length; i++) expect(totals[i], `total at ${spacings[i]}`).to.be.below(totals[i - 1]);
    });
  }

  it('fig1: min user IPC 0.30–0.50, 2,000–6,000 cycles lost, within 10 % of baseline by 16,000 cycles', () => {
    const rows = runPoints(fig1, fig1.grid(false));
    const s = summarizeWindows(rows.map((r) => Number(r.user_ipc)), FIG1_BEFORE, FIG1_WINDOW);
    expect(s.minimum, 'minimum IPC').to.be.within(0.3, 0.5);
    expect(s.lost, 'cycles lost').to.be.within(2000, 6000);
    expect(rows[rows.length - 1].cycles).to.equal(16000);
    expect(s.recovered, 'IPC at 16,000 cycles / baseline').to.be.at.least(0.9);
  });

  it('fig4: kernel IPC degradation rises with spacing, by at least half the paper’s rise', () => {
    const rows = runPoints(fig4, fig4.grid(false));
    const d = rows.map((r) => Number(r.kernel_ipc_degradation_pct));
    const ref = loadReference('fig4-kernel-ipc-degradation.csv').map((r) => Number(r.kernel_ipc_degradation_pct));
    expect(d[d.length - 1] - d[0], 'rise over the grid').to.be.at.least((ref[ref.length - 1] - ref[0]) / 2);
    // Rising: no point falls more than 2 points below an earlier one.
    for (let i = 1; i < d.length; i++) expect(d[i], `at ${rows[i].instructions_between_syscalls}`).to.be.at.least(Math.max(...d.slice(0, i)) - 2);
  });
});
