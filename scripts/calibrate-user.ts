/**
 * Searches a Section 2 user program's footprint for the paper's data of that program.
 *
 *   node dist/scripts/calibrate-user.js xalan   [seed] [iterations]
 *   node dist/scripts/calibrate-user.js specjbb [seed] [iterations]
 *
 * Xalan: base CPI, miss overlap, the sizes and rates of its hot/warm/tail sets and the
 * exception entry cost, against its baseline IPC (1.46), Fig. 2's total and direct columns
 * at 1K–20K and Fig. 1 (minimum IPC near 0.40, 2.5K–5K cycles lost, recovered by 16K
 * cycles). The stream stays at 13 lines per 1000 instructions (required by Table 1).
 * SPEC JBB: only its own footprint, against its baseline IPC (0.97) and Fig. 3's totals;
 * the shared constants (exception cost, stream, kernel footprints) are not touched and
 * its direct column stays a check.
 *
 * A (1+1) evolution strategy with the one-fifth success rule over deterministic
 * evaluations that use the experiments' own seeds and warm-up. It prints improving points;
 * the chosen one is copied into src/workloads/micro/user-footprints.ts (and, for Xalan, the
 * exception cost into the nehalem-2010 preset) by hand.
 */
import { buildRunConfig } from '../src/run-config.js';
import { createRandom } from '../src/model/engine.js';
import { pointSeed } from '../src/seed.js';
import { loadReference } from '../src/report/reference.js';
import { measureSpacing, measureWindows, summarizeWindows } from '../src/workloads/micro/section2.js';
import { SPECJBB, XALAN, type UserProgram } from '../src/workloads/micro/user-footprints.js';

const which = process.argv[2] === 'specjbb' ? 'specjbb' : 'xalan';
const program0 = which === 'xalan' ? XALAN : SPECJBB;
const figure = which === 'xalan' ? 'fig2' : 'fig3';
const SPACINGS = [1000, 2000, 5000, 10000, 20000];
const ref = new Map(
  loadReference('fig2-fig3-user-ipc-degradation.csv')
    .filter((r) => r.workload === which)
    .map((r) => [Number(r.instructions_between_syscalls), [Number(r.total_pwrite_pct), Number(r.direct_null_pct)]]),
);

type Params = Record<string, number>;
const FIXED = new Set(['data-stream.rate', 'data-stream.overlap', ...(which === 'specjbb' ? ['exceptionEntry'] : [])]);

function paramsOf(p: UserProgram, exceptionEntry: number): Params {
  const out: Params = { baseCpi: p.footprint.baseCpi, missOverlap: p.footprint.missOverlap ?? 0.5, exceptionEntry };
  for (const r of p.footprint.regions) {
    if (r.pattern !== 'sequential') out[`${r.name}.lines`] = r.lines;
    out[`${r.name}.rate`] = r.refsPerKilo ?? 0;
    if (r.missOverlap !== undefined) out[`${r.name}.overlap`] = r.missOverlap;
  }
  return out;
}

function programOf(q: Params): UserProgram {
  const f = program0.footprint;
  return {
    ...program0,
    footprint: {
      ...f,
      baseCpi: Math.max(0.25, q.baseCpi), // a 4-wide core retires at most 4 per cycle
      missOverlap: Math.min(0.9, Math.max(0.02, q.missOverlap)),
      regions: f.regions.map((r) => ({
        ...r,
        lines: q[`${r.name}.lines`] !== undefined ? Math.max(1, Math.round(q[`${r.name}.lines`])) : r.lines,
        refsPerKilo: q[`${r.name}.rate`],
        missOverlap: q[`${r.name}.overlap`] ?? r.missOverlap,
      })),
    },
  };
}

function evaluate(q: Params): { cost: number; text: string } {
  const hw = buildRunConfig('nehalem-2010', [`hw.modeSwitch.exceptionEntryCycles=${Math.round(q.exceptionEntry)}`]).hw;
  const prog = programOf(q);
  const opts = { seed: 1, warmup: 10_000_000, minCalls: 20, minInstructions: 2_000_000 };
  const baseIpc = measureSpacing(hw, prog, 1_000_000, [], opts).userIpc;
  let cost = 60 * Math.max(0, Math.abs(baseIpc - prog.paperBaselineIpc) - 0.015);
  const cells: string[] = [];
  for (const n of SPACINGS) {
    const o = { ...opts, seed: pointSeed(figure, { instructions_between_syscalls: n }, 1) };
    const b = measureSpacing(hw, prog, n, [], o).userIpc;
    const total = 100 * (1 - measureSpacing(hw, prog, n, ['pwrite'], o).userIpc / b);
    const direct = 100 * (1 - measureSpacing(hw, prog, n, ['null'], o).userIpc / b);
    const [pt, pd] = ref.get(n)!;
    const et = Math.abs(total - pt);
    const ed = Math.abs(direct - pd);
    // Absolute error plus a steep penalty past 4 points (the tests allow 5 for Xalan, 7 for
    // JBB); JBB's direct column is a check, so only its tolerance is guarded.
    cost += et + 3 * Math.max(0, et - 4) + (which === 'xalan' ? ed + 3 * Math.max(0, ed - 4) : 3 * Math.max(0, ed - 5));
    cells.push(`${total.toFixed(1)}/${direct.toFixed(1)}`);
  }
  if (which === 'xalan') {
    const w = measureWindows(hw, prog, 'pwrite', { seed: 1, warmup: 3_000_000, gap: 500_000, calls: 6, window: 1000, before: 2, after: 15, step: 50 });
    const { minimum, lost, recovered } = summarizeWindows(w.userIpc, 2, 1000);
    cost += 200 * Math.max(0, Math.abs(minimum - 0.4) - 0.06) + Math.max(0, lost - 5000) / 200 + Math.max(0, 2500 - lost) / 200 + 100 * Math.max(0, 0.92 - recovered);
    cells.push(`fig1 min ${minimum.toFixed(2)} lost ${lost.toFixed(0)}`);
  }
  return { cost, text: `ipc ${baseIpc.toFixed(3)} total/direct ${cells.join(' ')}` };
}

const rng = createRandom(Number(process.argv[3] ?? 31));
const iterations = Number(process.argv[4] ?? 200);
const gauss = () => {
  let u = 0;
  for (let i = 0; i < 12; i++) u += rng.random();
  return u - 6;
};
let p = paramsOf(program0, buildRunConfig('nehalem-2010').hw.modeSwitch.exceptionEntryCycles);
let cur = evaluate(p);
console.log(`start cost ${cur.cost.toFixed(1)} ${cur.text}`);
let sigma = 0.15;
let successes = 0;
for (let it = 1; it <= iterations; it++) {
  const q: Params = {};
  for (const k of Object.keys(p)) q[k] = !FIXED.has(k) && rng.random() < 0.5 ? p[k] * Math.exp(sigma * gauss()) : p[k];
  const r = evaluate(q);
  if (r.cost < cur.cost) {
    p = q;
    cur = r;
    successes++;
    console.log(`${it} cost ${cur.cost.toFixed(1)} ${cur.text}\n  ${JSON.stringify(p)}`);
  }
  if (it % 10 === 0) {
    sigma *= successes >= 2 ? 1.2 : 0.8;
    successes = 0;
  }
}
