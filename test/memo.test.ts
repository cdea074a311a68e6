/**
 * One seed per server configuration and the run's store of shared simulations: the same
 * configuration in two experiments gets the same seed and is simulated once per run; what
 * comes back from the store is exactly what was put in; the runner hands the store to every
 * experiment of a run and deletes it when the run is done.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { experiments } from '../experiments/index.js';
import { seedOf, type Experiment, type Point } from '../src/experiment.js';
import type { Row } from '../src/report/csv.js';
import { buildRunConfig } from '../src/run-config.js';
import { canonicalJson } from '../src/runner/identity.js';
import { DiskMemo, jsonFaithful, memoStats } from '../src/runner/memo.js';
import { TaskPicker } from '../src/runner/picker.js';
import { computePoint } from '../src/runner/point.js';
import { Progress } from '../src/runner/progress.js';
import { runSweep } from '../src/runner/sweep.js';
import { pointSeed } from '../src/seed.js';

const byId = (id: string): Experiment => {
  const e = experiments.find((x) => x.id === id);
  if (!e) throw new Error(`no experiment ${id}`);
  return e;
};

describe('seeds: one per server configuration', () => {
  it('Figs. 12/13/15, Tables 4/5 and the ablation seed a configuration as Fig. 11 (Apache) or Fig. 14 (MySQL) does', () => {
    const apache256 = { cores: 2, concurrency: 256, mechanism: 'flexsc' };
    const s = seedOf(byId('fig11'), apache256, 1);
    expect(s).to.equal(pointSeed('fig11', apache256, 1)); // Fig. 11's own seeds did not change
    expect(seedOf(byId('fig13'), apache256, 1)).to.equal(s);
    const apache512 = { cores: 4, concurrency: 512, mechanism: 'sync' };
    const t = seedOf(byId('fig11'), apache512, 1);
    expect(seedOf(byId('table4'), apache512, 1)).to.equal(t);
    expect(seedOf(byId('fig12'), { workload: 'apache', ...apache512 }, 1)).to.equal(t);
    expect(seedOf(byId('ablation'), { workload: 'apache', ...apache512, pollution: 'on' }, 1)).to.equal(t);
    expect(seedOf(byId('ablation'), { workload: 'apache', ...apache512, pollution: 'off' }, 1)).to.equal(t);
    const mysql = { cores: 4, concurrency: 256, mechanism: 'sync' };
    const m = seedOf(byId('fig14'), mysql, 1);
    for (const id of ['fig15', 'table5']) expect(seedOf(byId(id), mysql, 1)).to.equal(m);
    expect(seedOf(byId('fig12'), { workload: 'mysql', ...mysql }, 1)).to.equal(m);
    expect(m).to.not.equal(t);
    // Another --seed, another mechanism: another stream.
    expect(seedOf(byId('fig13'), apache256, 2)).to.not.equal(s);
    expect(seedOf(byId('fig13'), { ...apache256, mechanism: 'sync' }, 1)).to.not.equal(s);
  });

  it('the summaries of the experiments that report Fig. 11/14 runs say which', () => {
    const lat = [{ cores: 1, mechanism: 'sync', latency_mean_ms: 20 }];
    expect(byId('fig13').summarize!(lat, []).join('\n')).to.include("The same simulations as fig11's 256-client rows");
    expect(byId('fig15').summarize!(lat, []).join('\n')).to.include("The same simulations as fig14's 256-client rows");
    const micro = [{ cores: 1, mechanism: 'sync', exec_mode: 'user', ipc: 0.5, l3_mpki: 1, l2_mpki: 1, l1d_mpki: 1, l1i_mpki: 1, tlb_mpki: 1, branch_mpki: 1 }];
    expect(byId('table4').summarize!(micro, []).join('\n')).to.include("fig11's 512-client rows");
    expect(byId('table5').summarize!(micro, []).join('\n')).to.include("fig14's 256-client rows");
    expect(byId('fig11').summarize!([], []).join('\n')).to.not.include('The same simulations');
  });

  it('the Fig. 11/14 summaries give every throughput with its 95 % interval', () => {
    const tput = [
      { cores: 1, concurrency: 16, mechanism: 'sync', throughput_rps: 12000.4, throughput_ci95_pct: 1.234 },
      { cores: 1, concurrency: 16, mechanism: 'flexsc', throughput_rps: 12400, throughput_ci95_pct: 0.5 },
    ];
    expect(byId('fig11').summarize!(tput, []).join('\n')).to.include('| 1 | 16 | 12000 ± 1.2 % (12196) | 12400 ± 0.5 % |');
  });

  it('the Fig. 11/14 summaries say which points needed more warm-up or a longer window, and which are unsettled or imprecise', () => {
    const rows = [
      { cores: 4, concurrency: 32, mechanism: 'sync', throughput_rps: 42000, throughput_ci95_pct: 1 },
      { cores: 4, concurrency: 32, mechanism: 'flexsc', throughput_rps: 29000, throughput_ci95_pct: 5.6 },
      { cores: 1, concurrency: 64, mechanism: 'sync', throughput_rps: 11000, throughput_ci95_pct: 2.9 },
    ];
    const details = [
      { point: { cores: 4, concurrency: 32, mechanism: 'sync' }, window: { warmupRequests: 400, measuredRequests: 4000, windows: 1, driftPct: 0.4, steady: true } },
      { point: { cores: 4, concurrency: 32, mechanism: 'flexsc' }, window: { warmupRequests: 12400, measuredRequests: 4000, windows: 4, driftPct: 12.1, steady: false } },
      { point: { cores: 1, concurrency: 64, mechanism: 'sync' }, window: { warmupRequests: 400, measuredRequests: 12000, windows: 1, intervalLengthenings: 2, driftPct: -0.8, driftHalfWidthPct: 1.1, steady: true } },
      { point: { cores: 4, concurrency: 768, mechanism: 'flexsc' }, window: { warmupRequests: 1536, measuredRequests: 4000, windows: 1, driftPct: -2.52, driftHalfWidthPct: 2.32, steady: true } },
      // Lengthened once for a slow drift, which then passed: not a 3 % interval lengthening.
      { point: { cores: 2, concurrency: 16, mechanism: 'sync' }, window: { warmupRequests: 400, measuredRequests: 8000, windows: 1, driftLengthenings: 1, driftPct: -0.6, driftHalfWidthPct: 0.7, steady: true } },
      // Lengthened twice, then restarted when the drift grew past the limit.
      { point: { cores: 4, concurrency: 512, mechanism: 'flexsc' }, window: { warmupRequests: 21024, measuredRequests: 4000, windows: 3, driftLengthenings: 2, driftPct: 0.3, driftHalfWidthPct: 1.9, steady: true } },
      // Counted by the run: lengthened twice for an unclear drift and once for its interval.
      { point: { cores: 4, concurrency: 16, mechanism: 'flexsc' }, window: { warmupRequests: 400, measuredRequests: 16000, windows: 1, driftLengthenings: 2, intervalLengthenings: 1, driftPct: 0.1, driftHalfWidthPct: 2.0, steady: true } },
    ];
    const text = byId('fig11').summarize!(rows, details).join('\n');
    expect(text).to.include('2 of 7 points drifted after their warm-up and measured again (4 cores, 32 clients, flexsc: 12400 requests of warm-up; 4 cores, 512 clients, flexsc: 21024 requests of warm-up)');
    expect(text).to.include('Still drifting when the run stopped (read these rows with care): 4 cores, 32 clients, flexsc (12.1 %)');
    expect(text).to.include('Interval over 3 %: 4 cores, 32 clients, flexsc (5.6 %)');
    // The points the runs counted as lengthened for their interval, even one also measured
    // longer for its drift; none of the others, whatever their window's length.
    expect(text).to.include('Lengthened for a 3 % interval: 1 core, 64 clients, sync (12000 requests); 4 cores, 16 clients, flexsc (16000 requests).');
    // −0.8 ± 1.1 % is no trend; −2.5 ± 2.3 % is one, within the limit.
    expect(text).to.match(/Still drifting slowly when the run stopped \(a significant trend of 1–3 % [^)]*\): 4 cores, 768 clients, flexsc \(-2\.5 ± 2\.3 %\)\./);
    expect(text).to.include(
      "Measured longer because a window's drift was unclear (a significant trend of 1–3 %, or one past 3 % within the window's noise): 2 cores, 16 clients, sync (1 time; reported 8000 requests after 400); 4 cores, 512 clients, flexsc (2 times; reported 4000 requests after 21024); 4 cores, 16 clients, flexsc (2 times; reported 16000 requests after 400).",
    );
    expect(text).to.not.include('4 cores, 32 clients, sync (');
  });

  it("Fig. 16's summary says how its windows were found too", () => {
    const rows = [{ cores: 4, entries_per_core: 64, throughput_rps: 36000 }];
    const details = [{ point: { cores: 4, entries_per_core: 64 }, window: { warmupRequests: 16384, measuredRequests: 4000, windows: 1, driftPct: -2.8, driftHalfWidthPct: 1.5, steady: true } }];
    const text = byId('fig16').summarize!(rows, details).join('\n');
    expect(text).to.include('- 4 cores, 64 entries: 36000 requests/s');
    expect(text).to.include('0 of 1 points drifted after their warm-up');
    expect(text).to.include('Still drifting slowly');
    expect(text).to.include('4 cores, 64 entries (-2.8 ± 1.5 %)');
    expect(byId('fig16').summarize!(rows, []).join('\n')).to.not.include('Measurement windows');
  });

  it('other experiments keep their own (id, point) seed', () => {
    const p = { cores: 4, entries_per_core: 128 };
    expect(seedOf(byId('fig16'), p, 1)).to.equal(pointSeed('fig16', p, 1));
    expect(seedOf(byId('fig9'), { batch_size: 4 }, 1)).to.equal(pointSeed('fig9', { batch_size: 4 }, 1));
  });
});

describe('DiskMemo: stores what JSON gives back exactly', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flexsc-memo-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('canonical JSON does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 'z' } })).to.equal('{"a":{"c":"z","d":[1,{"x":1,"y":2}]},"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).to.equal(canonicalJson({ b: 2, a: 1 }));
  });

  it('only values JSON gives back exactly are faithful', () => {
    expect(jsonFaithful({ a: [0.1, 1e-300, 123456789.123], b: 'x', c: true, d: null })).to.equal(true);
    for (const bad of [NaN, Infinity, -Infinity, -0, undefined, [1, undefined], { a: undefined }, new Map(), new Date(0), () => 1, { a: { b: NaN } }]) {
      expect(jsonFaithful(bad), String(bad)).to.equal(false);
    }
  });

  it('get returns what put stored, under the same key and salt only', () => {
    const m = new DiskMemo(dir, 'v1');
    const value = { rps: 12345.678901234, stack: { user_l1: 0.1 + 0.2 }, cores: [1, 2] };
    expect(m.get({ a: 1 })).to.equal(undefined);
    m.put({ a: 1, b: [2] }, value);
    expect(m.get({ b: [2], a: 1 })).to.deep.equal(value);
    expect(m.get({ a: 1, b: [3] })).to.equal(undefined);
    expect(new DiskMemo(dir, 'v2').get({ a: 1, b: [2] })).to.equal(undefined);
  });

  it('a value JSON would change is not stored (it is simulated again)', () => {
    const m = new DiskMemo(dir, 'v1');
    m.put({ a: 1 }, { ci: NaN });
    expect(readdirSync(dir)).to.deep.equal([]);
    expect(m.get({ a: 1 })).to.equal(undefined);
  });

  it('a file under the key\'s name that holds another key or garbage is a miss, not an answer', () => {
    const m = new DiskMemo(dir, 'v1');
    m.put({ a: 1 }, { x: 1 });
    const [name] = readdirSync(dir);
    writeFileSync(join(dir, name), JSON.stringify({ format: 'flexsc-sim shared run', key: 'something else', value: { x: 2 } }));
    expect(m.get({ a: 1 })).to.equal(undefined);
    writeFileSync(join(dir, name), '{ not json');
    expect(m.get({ a: 1 })).to.equal(undefined);
  });
});

describe('TaskPicker: a configuration being simulated is not started again', () => {
  it('passes over a task whose seed is running and comes back to it', () => {
    const p = new TaskPicker([7, 8, 7, 9]);
    expect(p.take()).to.equal(0); // seed 7
    expect(p.take()).to.equal(1); // seed 8
    p.release(1);
    expect(p.take()).to.equal(3); // task 2 has seed 7, still running: task 3 first
    p.release(0);
    expect(p.take()).to.equal(2);
    expect(p.take()).to.equal(-1);
  });

  it('takes a conflicting task when nothing else is left, and releases count per seed', () => {
    const p = new TaskPicker([5, 5, 5, 6]);
    expect(p.take()).to.equal(0);
    expect(p.take()).to.equal(3);
    expect(p.take()).to.equal(1); // only seed-5 tasks left: take one rather than idle
    p.release(0);
    expect(p.take()).to.equal(2); // seed 5 still in flight (task 1), but nothing else is left
    p.release(1);
    p.release(2);
    p.release(3);
    expect(p.take()).to.equal(-1);
  });

  it('in queue order when all seeds differ', () => {
    const p = new TaskPicker([1, 2, 3]);
    expect([p.take(), p.take(), p.take(), p.take()]).to.deep.equal([0, 1, 2, -1]);
  });
});

describe('shared simulations in a run', function () {
  this.timeout(120000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flexsc-memo-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the runner gives every experiment of a run the same store and deletes it at the end', async () => {
    let simulations = 0;
    const twin = (id: string): Experiment => ({
      id,
      title: id,
      reproduces: 'nothing',
      description: 'a test experiment',
      grid: () => [{ n: 1 }, { n: 2 }],
      columns: ['n', 'value_ns'],
      precision: {},
      run: (p: Point, ctx): Row[] => {
        const key = { n: p.n, seed: ctx.seed };
        let v = ctx.memo?.get(key) as number | undefined;
        if (v === undefined) {
          simulations++;
          v = 10 * Number(p.n);
          ctx.memo?.put(key, v);
        }
        return [{ n: Number(p.n), value_ns: v }];
      },
      seedKey: (p: Point) => ({ experiment: 'shared', point: p }),
      plot: () => ({ mark: 'point', data: { values: [] } }),
    });
    const progress = new Progress(new PassThrough(), () => undefined, false);
    await runSweep([twin('first'), twin('second')], { command: 'run', out: dir, seed: 1, machine: 'nehalem-2010', overrides: [], quick: true, jobs: 1, resume: false, handleSignals: false, progress });
    expect(simulations).to.equal(2); // two points, four rows
    expect(existsSync(join(dir, '.partial'))).to.equal(false);
  });

  it('a server configuration met again comes from the store: the same rows, no new simulation', () => {
    const config = buildRunConfig('nehalem-2010', []);
    const memo = { dir: join(dir, 'runs'), salt: 'test' };
    const point = { cores: 1, concurrency: 256, mechanism: 'sync' };
    const fig13 = byId('fig13');
    const fig11 = byId('fig11');
    const before = { ...memoStats };
    const a = computePoint(fig13, { experiment: 'fig13', index: 0, point, config, seed: seedOf(fig13, point, 1), quick: true, memo });
    expect(memoStats.stores - before.stores, 'the server result was stored (it is JSON-faithful)').to.equal(1);
    const b = computePoint(fig11, { experiment: 'fig11', index: 0, point, config, seed: seedOf(fig11, point, 1), quick: true, memo });
    expect(memoStats.hits - before.hits).to.equal(1);
    expect(b.rows[0].latency_mean_ms).to.equal(a.rows[0].latency_mean_ms);
    // And without the store, the same numbers.
    const c = computePoint(fig11, { experiment: 'fig11', index: 0, point, config, seed: seedOf(fig11, point, 1), quick: true });
    expect(c).to.deep.equal(b);
  });
});
