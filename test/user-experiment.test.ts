/**
 * User experiment files (`flexsc-sim run FILE.json`): a file's sweep runs the server
 * workload with the file's requests, and `replications` gives each row the mean of
 * independent runs and a throughput interval from their spread.
 */
import { expect } from 'chai';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Point } from '../src/experiment.js';
import { ci95Pct } from '../src/report/stats.js';
import { buildRunConfig } from '../src/run-config.js';
import { computePoint } from '../src/runner/point.js';
import { replicationSeed } from '../src/seed.js';
import { checkUserExperiment, loadUserExperiment } from '../src/user-experiment.js';
import { projectRoot } from '../src/paths.js';
import { experiments } from '../experiments/index.js';
import { averageResults, runPoint, serverPointOf } from '../src/workloads/server/points.js';

describe('user experiment files', function () {
  this.timeout(120_000);
  const config = buildRunConfig('nehalem-2010', []);
  const requests = { warmup: 20, measured: 60 };
  const dir = mkdtempSync(join(tmpdir(), 'flexsc-user-exp-'));
  const file = (name: string, body: object): string => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify({ workload: 'apache', grid: { cores: [1], concurrency: [4], mechanism: ['sync'] }, requests, ...body }));
    return path;
  };
  const task = (experiment: string, point: Point, seed: number) => ({ experiment, index: 0, point, config, seed, quick: false });

  it('runs the file\'s grid with its requests: one row per point, the interval by batch means', () => {
    const exp = loadUserExperiment(file('plain.json', { id: 'plain' }));
    const [point] = exp.grid(false);
    const out = computePoint(exp, task('plain', point, 7));
    const direct = runPoint(config, serverPointOf('apache', point), 7, false, requests);
    expect(out.rows).to.have.length(1);
    expect(out.rows[0].throughput_rps).to.equal(direct.throughputRps);
    expect(out.rows[0].throughput_ci95_pct).to.equal(direct.throughputCi95Pct);
    expect(out.details).to.not.have.property('replications');
  });

  it('the shipped examples/ files load, with valid overrides, and run one quick point', () => {
    const files = readdirSync(join(projectRoot, 'examples')).filter((f) => f.endsWith('.json'));
    expect(files).to.include('flexsc-threads-stealing.json');
    for (const f of files) {
      const exp = loadUserExperiment(join(projectRoot, 'examples', f));
      checkUserExperiment(exp, config);
      expect(exp.grid(false).length, f).to.be.greaterThan(0);
    }
    const steal = loadUserExperiment(join(projectRoot, 'examples', 'flexsc-threads-stealing.json'));
    const point = steal.grid(true).find((p) => p.mechanism === 'flexsc' && p.cores === 2)!;
    const out = computePoint(steal, { ...task('flexsc-threads-stealing', point, 3), quick: true });
    expect(Number(out.rows[0].throughput_rps)).to.be.greaterThan(0);
  });

  it('requests.max_windows bounds the windows a point may measure; meta.json says how it was measured', () => {
    const exp = loadUserExperiment(file('one-window.json', { id: 'one-window', requests: { ...requests, max_windows: 1 } }));
    const [point] = exp.grid(false);
    const out = computePoint(exp, task('one-window', point, 7));
    const direct = runPoint(config, serverPointOf('apache', point), 7, false, { ...requests, maxWindows: 1 });
    expect(out.rows[0].throughput_rps).to.equal(direct.throughputRps);
    expect(out.details?.window).to.deep.equal({ warmupRequests: 20, measuredRequests: 60, windows: 1, driftLengthenings: 0, intervalLengthenings: 0, driftPct: direct.windowDriftPct, driftHalfWidthPct: direct.windowDriftHalfWidthPct, steady: direct.steady });
    // Without the bound the same point may measure longer, never shorter.
    const free = computePoint(loadUserExperiment(file('free.json', { id: 'free' })), task('free', point, 7));
    const w = free.details?.window as { warmupRequests: number; measuredRequests: number };
    expect(w.warmupRequests + w.measuredRequests).to.be.at.least(80);
  });

  it('replications: every column is the mean of independent runs, the interval their spread', () => {
    const exp = loadUserExperiment(file('reps.json', { id: 'reps', replications: 3 }));
    const [point] = exp.grid(false);
    const out = computePoint(exp, task('reps', point, 7));
    const seeds = [0, 1, 2].map((i) => replicationSeed(7, i));
    expect(seeds[0]).to.equal(7);
    expect(new Set(seeds).size).to.equal(3);
    const runs = seeds.map((s) => runPoint(config, serverPointOf('apache', point), s, false, requests));
    const tp = runs.map((r) => r.throughputRps);
    // Independent seeds give different runs (else the spread would say nothing).
    expect(new Set(tp).size).to.equal(3);
    const row = out.rows[0];
    expect(row.throughput_rps).to.be.closeTo((tp[0] + tp[1] + tp[2]) / 3, 1e-9);
    expect(row.throughput_ci95_pct).to.be.closeTo(ci95Pct(tp), 1e-9);
    expect(row.latency_mean_ms).to.be.closeTo(runs.reduce((s, r) => s + r.latencyMeanMs, 0) / 3, 1e-12);
    expect(row.idle_pct).to.be.closeTo(runs.reduce((s, r) => s + r.idlePct, 0) / 3, 1e-12);
    const reps = (out.details as { replications: { seed: number; throughput_rps: number; idle_pct: number; kernel_pct_by_core: number[] }[] }).replications;
    expect(reps.map((r) => r.seed)).to.deep.equal(seeds);
    expect(reps.map((r) => r.throughput_rps)).to.deep.equal(tp);
    expect(reps.map((r) => r.idle_pct)).to.deep.equal(runs.map((r) => r.idlePct));
    expect(reps.map((r) => r.kernel_pct_by_core)).to.deep.equal(runs.map((r) => r.kernelPctByCore));
  });

  it('--replications on a built-in server experiment: its rows are the mean of the replications', () => {
    const fig13 = experiments.find((e) => e.id === 'fig13')!;
    expect(fig13.replicable).to.equal(true);
    const point = fig13.grid(true)[0];
    const recorded: Record<string, unknown> = {};
    const rows = fig13.run(point, { config, seed: 11, quick: true, replications: 2, record: (k, v) => (recorded[k] = v) });
    const sp = serverPointOf('apache', point);
    const runs = [0, 1].map((i) => runPoint(config, sp, replicationSeed(11, i), true));
    expect(rows[0].latency_mean_ms).to.be.closeTo((runs[0].latencyMeanMs + runs[1].latencyMeanMs) / 2, 1e-12);
    expect((recorded.replications as unknown[]).length).to.equal(2);
    expect(experiments.find((e) => e.id === 'fig9')!.replicable).to.not.equal(true);
  });
});

describe('averageResults', () => {
  it('averages every number, nested ones too; the interval from the throughputs; backlog max; instructions summed', () => {
    const config = buildRunConfig('nehalem-2010', []);
    const sp = serverPointOf('bind', { cores: 1, concurrency: 4, mechanism: 'sync' });
    const a = runPoint(config, sp, 1, true);
    const b = runPoint(config, sp, 2, true);
    const m = averageResults([a, b]);
    expect(m.throughputRps).to.equal((a.throughputRps + b.throughputRps) / 2);
    expect(m.user.ipc).to.equal((a.user.ipc + b.user.ipc) / 2);
    const k = Object.keys(a.stackPerRequest)[0];
    expect(m.stackPerRequest[k]).to.equal((a.stackPerRequest[k] + (b.stackPerRequest[k] ?? 0)) / 2);
    expect(m.kernelPctByCore[0]).to.equal((a.kernelPctByCore[0] + b.kernelPctByCore[0]) / 2);
    expect(m.throughputCi95Pct).to.be.closeTo(ci95Pct([a.throughputRps, b.throughputRps]), 1e-12);
    expect(m.maxBacklog).to.equal(Math.max(a.maxBacklog, b.maxBacklog));
    expect(m.simulatedInstructions).to.equal(a.simulatedInstructions + b.simulatedInstructions);
    expect(() => averageResults([a])).to.throw(/at least two/);
  });
});
