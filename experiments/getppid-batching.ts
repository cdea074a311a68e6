/**
 * fig9 and fig10: the getppid micro-benchmark of the paper's §5.1 — the cost of an
 * exception-less call against a synchronous one, by batch size, with the syscall thread on
 * the caller's core (Fig. 9) or on another core that must be woken for every batch
 * (Fig. 10). These figures calibrate the FlexSC mechanism costs (`os.flexsc`, `os.idle`):
 * see `src/model/os-defaults.json` for which constant came from which point.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Experiment, Point, PointContext } from '../src/experiment.js';
import type { Row } from '../src/report/csv.js';
import { lineChartSpec } from '../src/report/plot.js';
import { loadReference } from '../src/report/reference.js';
import { runGetppid } from '../src/workloads/micro/getppid.js';

const BATCHES = [1, 2, 4, 8, 16, 32, 64];

function batchingFigure(id: 'fig9' | 'fig10', placement: 'same-core' | 'remote-core'): Experiment {
  const reference = () => loadReference('fig9-fig10-getppid-batching.csv').filter((r) => r.placement === placement);
  const where = placement === 'same-core' ? 'syscall thread on the same core' : 'syscall thread on a remote core, woken for every batch';
  return {
    id,
    title: `getppid: exception-less batches vs synchronous calls (${where})`,
    reproduces: id === 'fig9' ? 'Figure 9' : 'Figure 10',
    description: `ns per getppid issued exception-less in batches of 1…64 (${where}) and synchronously; the ratio flexsc/sync below 1 means exception-less is faster.`,
    grid(quick: boolean): Point[] {
      return (quick ? [1, 8, 64] : BATCHES).map((b) => ({ batch_size: b }));
    },
    columns: ['batch_size', 'flexsc_ns_per_call', 'sync_ns_per_call', 'flexsc_sync_ratio', 'paper_flexsc_ns_per_call', 'paper_sync_ns_per_call', 'paper_ratio'],
    precision: { flexsc_ns_per_call: 1, sync_ns_per_call: 1, flexsc_sync_ratio: 3, paper_flexsc_ns_per_call: 1, paper_sync_ns_per_call: 1, paper_ratio: 3 },
    run(point: Point, ctx: PointContext): Row[] {
      const batch = Number(point.batch_size);
      // Enough calls that the warm-up and one batch's edges vanish in the mean.
      const measuredBatches = Math.max(ctx.quick ? 10 : 40, Math.ceil((ctx.quick ? 200 : 2000) / batch));
      const common = { batch, placement, warmupBatches: 10, measuredBatches, seed: ctx.seed };
      const flexsc = runGetppid(ctx.config, { ...common, mechanism: 'flexsc' });
      const sync = runGetppid(ctx.config, { ...common, mechanism: 'sync' });
      const paper = reference().find((r) => r.batch_size === batch);
      const cpu = flexsc.kernel.cpus.map((c) => c.core.stack.toRecord());
      ctx.record?.('flexscCycleStacks', cpu);
      const pf = paper ? Number(paper.flexsc_ns_per_call) : NaN;
      const ps = paper ? Number(paper.sync_ns_per_call) : NaN;
      return [
        {
          batch_size: batch,
          flexsc_ns_per_call: flexsc.nsPerCall,
          sync_ns_per_call: sync.nsPerCall,
          flexsc_sync_ratio: flexsc.nsPerCall / sync.nsPerCall,
          paper_flexsc_ns_per_call: paper ? pf : '',
          paper_sync_ns_per_call: paper ? ps : '',
          paper_ratio: paper ? pf / ps : '',
        },
      ];
    },
    plot(rows: Row[]): TopLevelSpec {
      const long = (rs: readonly Record<string, unknown>[], flexsc: string, sync: string) =>
        rs.flatMap((r) => [
          { batch: r.batch_size, series: 'flexsc', ns: r[flexsc] },
          { batch: r.batch_size, series: 'sync', ns: r[sync] },
        ]);
      return lineChartSpec({
        title: `getppid, ${where}`,
        subtitle: 'solid: model; dashed: paper',
        data: long(rows, 'flexsc_ns_per_call', 'sync_ns_per_call'),
        reference: { data: long(reference(), 'flexsc_ns_per_call', 'sync_ns_per_call') },
        x: { field: 'batch', title: 'batch size (calls)', scale: 'log' },
        y: { field: 'ns', title: 'time per call (ns)', scale: 'log' },
        color: { field: 'series', title: 'mechanism' },
      });
    },
    summarize(rows: Row[]): string[] {
      const lines = ['| batch | flexsc ns (paper) | sync ns (paper) | ratio (paper) |', '|---|---|---|---|'];
      for (const r of rows) {
        const p = (c: string) => (r[c] === '' ? '–' : Number(r[c]).toFixed(c === 'paper_ratio' ? 2 : 1));
        lines.push(
          `| ${r.batch_size} | ${Number(r.flexsc_ns_per_call).toFixed(1)} (${p('paper_flexsc_ns_per_call')}) | ${Number(r.sync_ns_per_call).toFixed(1)} (${p('paper_sync_ns_per_call')}) | ${Number(r.flexsc_sync_ratio).toFixed(2)} (${p('paper_ratio')}) |`,
        );
      }
      const over = rows.filter((r) => Number(r.flexsc_sync_ratio) < 1).map((r) => Number(r.batch_size));
      lines.push('', over.length ? `Exception-less is faster from batch ${Math.min(...over)} on.` : 'Exception-less is slower at every batch size run.');
      return lines;
    },
  };
}

export const fig9 = batchingFigure('fig9', 'same-core');
export const fig10 = batchingFigure('fig10', 'remote-core');
