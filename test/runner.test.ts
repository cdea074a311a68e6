/**
 * The runner's parts, in process: row checks, point keys and stale partial results, shard
 * selection and the checks of `merge`, the worker pool (same rows as in this thread; a
 * terminated worker abandons its point), the sweep with a synthetic experiment, and the
 * progress bar (a terminal gets a bar, anything else gets nothing).
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { experiments } from '../experiments/index.js';
import type { Experiment, Point } from '../src/experiment.js';
import { InputError } from '../src/errors.js';
import type { Row } from '../src/report/csv.js';
import { buildRunConfig } from '../src/run-config.js';
import { ExecutorClosed, WorkerPool } from '../src/runner/executor.js';
import { identityDifference, identityRecord, pointKey, type RunIdentity } from '../src/runner/identity.js';
import { PartialStore } from '../src/runner/partials.js';
import { PointError, checkPointRows, computePoint } from '../src/runner/point.js';
import { Progress } from '../src/runner/progress.js';
import { checkShards, inShard, parseShard, type LoadedShard, type ShardFile } from '../src/runner/shard.js';
import { RunStopped, runSweep } from '../src/runner/sweep.js';
import { codeFingerprint } from '../src/runner/code-fingerprint.js';
import { pointSeed } from '../src/seed.js';
import { toolVersion } from '../src/version.js';

const config = buildRunConfig('nehalem-2010', []);

/** A synthetic experiment: one row per point, value chosen by the test. */
function syntheticExperiment(value: (p: Point) => number, points = 4): Experiment {
  return {
    id: 'synthetic',
    title: 'synthetic',
    reproduces: 'nothing',
    description: 'a test experiment',
    grid: () => Array.from({ length: points }, (_v, i) => ({ n: i })),
    columns: ['n', 'latency_ns', 'ratio'],
    precision: { latency_ns: 1, ratio: 2 },
    run: (p: Point, ctx): Row[] => {
      ctx.record?.('seen', { n: p.n });
      return [{ n: Number(p.n), latency_ns: value(p), ratio: value(p) / 10 }];
    },
    plot: () => ({ mark: 'point', data: { values: [] } }),
  };
}

function identity(over: Partial<RunIdentity> = {}): RunIdentity {
  return {
    version: '0.1.0',
    code: 'c0de',
    experiment: 'synthetic',
    file: '',
    replications: 1,
    machine: 'nehalem-2010',
    overrides: [],
    seed: 1,
    quick: true,
    grid: [{ n: 0 }, { n: 1 }],
    config,
    ...over,
  };
}

/** A quiet progress reporter (not a terminal) that collects what it prints. */
function quietProgress(): { progress: Progress; lines: string[] } {
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (b: Buffer) => lines.push(b.toString()));
  return { progress: new Progress(stream, (s) => lines.push(s), false), lines };
}

describe('runner: rows are checked before anything is kept', () => {
  const exp = syntheticExperiment(() => 1);
  const bad: [string, Row, RegExp][] = [
    ['NaN', { n: 0, latency_ns: NaN, ratio: 1 }, /synthetic point 2 \(n=2\): row 1, column latency_ns is NaN; no row of this point was written/],
    ['Infinity', { n: 0, latency_ns: 1, ratio: Infinity }, /column ratio is Infinity/],
    ['a negative time', { n: 0, latency_ns: -3, ratio: 1 }, /column latency_ns is -3, but a time or rate cannot be negative/],
    ['a missing column', { n: 0, latency_ns: 1 }, /column ratio is missing/],
  ];
  for (const [what, row, pattern] of bad) {
    it(`refuses ${what}, naming the experiment, point and column`, () => {
      expect(() => checkPointRows(exp, 2, { n: 2 }, [row])).to.throw(PointError, pattern);
    });
  }

  it('accepts negative values where the column is not a time or rate, and empty strings', () => {
    const e = { ...exp, columns: ['n', 'delta_pct', 'paper_ns'] };
    expect(() => checkPointRows(e, 0, { n: 0 }, [{ n: 0, delta_pct: -4.5, paper_ns: '' }])).to.not.throw();
  });
});

describe('runner: point keys and partial results', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flexsc-partials-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a point key changes with every field that makes the point, and with the point', () => {
    const base = identity();
    const k = pointKey(base, 0, { n: 0 });
    expect(pointKey(identity(), 0, { n: 0 })).to.equal(k);
    for (const over of [{ seed: 2 }, { machine: 'skylake-sp-2017' }, { overrides: ['hw.l1d.sizeKiB=64'] }, { quick: false }, { version: '0.2.0' }, { code: 'other' }, { file: 'f11e' }, { replications: 3 }, { config: buildRunConfig('nehalem-2010', ['hw.l2.latency=12']) }]) {
      expect(pointKey(identity(over), 0, { n: 0 }), JSON.stringify(Object.keys(over))).to.not.equal(k);
    }
    expect(pointKey(base, 1, { n: 0 })).to.not.equal(k);
    expect(pointKey(base, 0, { n: 1 })).to.not.equal(k);
  });

  it('names the first field in which two runs differ', () => {
    expect(identityDifference(identityRecord(identity()), identityRecord(identity()))).to.equal(undefined);
    expect(identityDifference(identityRecord(identity({ seed: 2 })), identityRecord(identity()))).to.deep.equal({ field: 'seed', a: '2', b: '1' });
    const d = identityDifference(identityRecord(identity({ overrides: ['hw.cores=2'] })), identityRecord(identity()));
    expect(d).to.deep.equal({ field: 'overrides', a: '--set hw.cores=2', b: 'no --set' });
    // An edited user experiment file (its requests or replications changed) is another run.
    const f = identityDifference(identityRecord(identity({ file: 'ab'.repeat(32) })), identityRecord(identity()));
    expect(f).to.deep.equal({ field: 'file', a: `experiment file sha256 ${'ab'.repeat(6)}`, b: 'no experiment file' });
  });

  it('reads back its own points, and ignores stale ones naming what differs', () => {
    const out = { rows: [{ n: 0, latency_ns: 1.25, ratio: 0.125 }], details: { seen: { n: 0 } } };
    new PartialStore(dir, identity()).save(0, { n: 0 }, out);
    new PartialStore(dir, identity({ seed: 2 })).save(1, { n: 1 }, { rows: [{ n: 1, latency_ns: 2, ratio: 0.2 }] });
    const { found, ignored } = new PartialStore(dir, identity()).load();
    expect([...found.keys()]).to.deep.equal([0]);
    expect(found.get(0)).to.deep.equal(out);
    expect(ignored).to.have.length(1);
    expect(ignored[0]).to.match(/1\.json: stale, made with seed 2, this run has 1/);
  });

  it('ignores unreadable files and leftovers of interrupted writes', () => {
    const store = new PartialStore(dir, identity());
    store.save(0, { n: 0 }, { rows: [] });
    const d = join(dir, '.partial', 'synthetic');
    rmSync(join(d, '0.json'));
    // A truncated file (as a crash could leave under another tool) and a temp file.
    writeFileSync(join(d, '1.json'), '{"format":"flexsc-sim partial res');
    writeFileSync(join(d, '.0.json.123.tmp'), 'x');
    const { found, ignored } = store.load();
    expect(found.size).to.equal(0);
    expect(ignored).to.have.length(1);
    expect(ignored[0]).to.match(/1\.json: unreadable/);
    store.clear();
    expect(existsSync(join(dir, '.partial'))).to.equal(false);
  });
});

describe('runner: shards', () => {
  it('parses i/n and refuses what is not a shard', () => {
    expect(parseShard('2/4')).to.deep.equal({ index: 2, count: 4 });
    expect(parseShard('1/1')).to.deep.equal({ index: 1, count: 1 });
    expect(() => parseShard('3/2')).to.throw(InputError, /--shard '3\/2': the shard number i must be from 1 to 2/);
    expect(() => parseShard('0/2')).to.throw(InputError, /must be from 1 to 2/);
    expect(() => parseShard('1/0')).to.throw(InputError, /at least 1/);
    expect(() => parseShard('a/b')).to.throw(InputError, /expected i\/n/);
  });

  it('every point falls in exactly one shard', () => {
    for (const n of [1, 2, 3, 7]) {
      for (let p = 0; p < 30; p++) {
        const holders = Array.from({ length: n }, (_v, i) => i + 1).filter((i) => inShard(p, { index: i, count: n }));
        expect(holders).to.have.length(1);
      }
    }
  });

  const id = identityRecord(identity({ grid: [{ n: 0 }, { n: 1 }, { n: 2 }] }));
  const shard = (index: number, points: number[], over: Partial<ShardFile['identity']> = {}): LoadedShard => ({
    file: `s${index}.json`,
    data: {
      format: 'flexsc-sim shard',
      command: 'run',
      shard: { index, count: 3 },
      identity: { ...id, ...over },
      config: config as unknown as Record<string, unknown>,
      points: points.map((i) => ({ index: i, point: { n: i }, rows: [{ n: i, latency_ns: i, ratio: 0 }] })),
    },
  });
  const expected = { version: id.version, code: id.code };

  it('merges complete, agreeing shards into grid order', () => {
    const [m] = checkShards([shard(3, [2]), shard(1, [0]), shard(2, [1])], expected);
    expect(m.outputs.map((o) => o.rows[0].n)).to.deep.equal([0, 1, 2]);
  });

  it('refuses shards that disagree, naming the field and both files', () => {
    expect(() => checkShards([shard(1, [0]), shard(2, [1], { seed: 9 }), shard(3, [2])], expected)).to.throw(InputError, /shards disagree on seed: s1\.json has 1, s2\.json has 9/);
    expect(() => checkShards([shard(1, [0]), shard(2, [1], { machine: 'x' }), shard(3, [2])], expected)).to.throw(InputError, /disagree on machine/);
    expect(() => checkShards([shard(1, [0]), shard(2, [1], { quick: false }), shard(3, [2])], expected)).to.throw(InputError, /disagree on quick/);
    expect(() => checkShards([shard(1, [0]), shard(2, [1]), shard(3, [2])], { ...expected, version: '9.9.9' })).to.throw(InputError, /on version/);
  });

  it('refuses missing and duplicated points', () => {
    expect(() => checkShards([shard(1, [0]), shard(2, [1])], expected)).to.throw(InputError, /1 of 3 points missing \(index 2\); no file of shard 3\/3 was given/);
    expect(() => checkShards([shard(1, [0]), shard(2, [1]), shard(3, [2, 1])], expected)).to.throw(InputError, /point 1 \{"n":1\} is duplicated: it is in s2\.json and in s3\.json/);
  });
});

describe('runner: the worker pool', function () {
  this.timeout(60000);

  it('a worker computes the same rows and details as this thread', async () => {
    const exp = experiments.find((e) => e.id === 'fig9') as Experiment;
    const point = exp.grid(true)[0];
    const task = { experiment: 'fig9', index: 0, point, config, seed: pointSeed('fig9', point, 1), quick: true };
    const pool = new WorkerPool(1);
    try {
      const there = await pool.run(task);
      expect(there).to.deep.equal(computePoint(exp, task));
      expect(there.details).to.have.property('flexscCycleStacks');
    } finally {
      await pool.close();
    }
  });

  it('closing the pool stops a running point (what --max-seconds and Ctrl-C rely on)', async () => {
    const exp = experiments.find((e) => e.id === 'table1') as Experiment;
    const point = exp.grid(true)[0];
    const pool = new WorkerPool(1);
    const running = pool.run({ experiment: 'table1', index: 0, point, config, seed: 1, quick: true });
    await pool.close();
    let error: unknown;
    await running.catch((e: unknown) => {
      error = e;
    });
    expect(error).to.be.instanceOf(ExecutorClosed);
  });
});

describe('runner: the sweep', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flexsc-sweep-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const options = (over: Record<string, unknown> = {}) => ({
    command: 'run' as const,
    out: dir,
    seed: 1,
    machine: 'nehalem-2010',
    overrides: [],
    quick: true,
    jobs: 1,
    resume: false,
    handleSignals: false,
    progress: quietProgress().progress,
    ...over,
  });

  it('writes the CSV in grid order and removes its partial results when done', async () => {
    const { results } = await runSweep([syntheticExperiment((p) => 10 * Number(p.n))], options());
    expect(readFileSync(join(dir, 'synthetic.csv'), 'utf8')).to.equal('n,latency_ns,ratio\n0,0.0,0.00\n1,10.0,1.00\n2,20.0,2.00\n3,30.0,3.00\n');
    expect(results[0].details.map((d) => d.point)).to.deep.equal([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]);
    expect(existsSync(join(dir, '.partial'))).to.equal(false);
  });

  it('a point returning NaN fails the run loudly: no CSV, no row of it kept, earlier points kept', async () => {
    const exp = syntheticExperiment((p) => (p.n === 2 ? NaN : 1));
    let error: unknown;
    await runSweep([exp], options()).catch((e: unknown) => {
      error = e;
    });
    expect(error).to.be.instanceOf(PointError);
    expect((error as Error).message).to.match(/^synthetic point 2 \(n=2\): row 1, column latency_ns is NaN/);
    expect(existsSync(join(dir, 'synthetic.csv'))).to.equal(false);
    expect(readdirSync(join(dir, '.partial', 'synthetic')).sort()).to.deep.equal(['0.json', '1.json']);
  });

  it('--resume reuses finished points and recomputes the rest, with the same bytes', async () => {
    let calls = 0;
    const exp = syntheticExperiment((p) => {
      calls++;
      return Number(p.n) + 0.5;
    });
    await runSweep([exp], options());
    const reference = readFileSync(join(dir, 'synthetic.csv'));
    // Leave partials of points 0 and 2, as an interrupted run would.
    const store = new PartialStore(dir, identity({ grid: exp.grid(true), code: codeFingerprint(), version: toolVersion }));
    store.save(0, { n: 0 }, { rows: [{ n: 0, latency_ns: 0.5, ratio: 0.05 }], details: { seen: { n: 0 } } });
    store.save(2, { n: 2 }, { rows: [{ n: 2, latency_ns: 2.5, ratio: 0.25 }], details: { seen: { n: 2 } } });
    rmSync(join(dir, 'synthetic.csv'));
    calls = 0;
    const q = quietProgress();
    await runSweep([exp], options({ resume: true, progress: q.progress }));
    expect(calls).to.equal(2 * 2); // points 1 and 3; value() is called twice per row
    expect(readFileSync(join(dir, 'synthetic.csv'))).to.deep.equal(reference);
    expect(q.lines.join('')).to.match(/synthetic: resuming, 2 of 4 points already done/);
  });

  it('a stale partial result is ignored with a message naming the field, and recomputed', async () => {
    const exp = syntheticExperiment(() => 1, 2);
    new PartialStore(dir, identity({ grid: exp.grid(true), code: codeFingerprint(), version: toolVersion, seed: 7 })).save(0, { n: 0 }, { rows: [{ n: 0, latency_ns: 999, ratio: 0 }] });
    const q = quietProgress();
    await runSweep([exp], options({ resume: true, progress: q.progress }));
    expect(q.lines.join('')).to.match(/ignoring 1 partial result[\s\S]*0\.json: stale, made with seed 7, this run has 1/);
    expect(readFileSync(join(dir, 'synthetic.csv'), 'utf8')).to.not.match(/999/);
  });

  it('--max-seconds stops the run with exit code 1 and writes no CSV', async () => {
    const table1 = experiments.find((e) => e.id === 'table1') as Experiment;
    let error: unknown;
    await runSweep([table1], options({ maxSeconds: 0.2 })).catch((e: unknown) => {
      error = e;
    });
    expect(error).to.be.instanceOf(RunStopped);
    expect((error as RunStopped).exitCode).to.equal(1);
    expect((error as Error).message).to.match(/stopped by --max-seconds 0\.2/);
    expect(existsSync(join(dir, 'table1.csv'))).to.equal(false);
  });
});

describe('runner: progress bar', () => {
  it('draws points done on a terminal', () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
    let text = '';
    tty.on('data', (b: Buffer) => (text += b.toString()));
    const p = new Progress(tty, () => undefined, false);
    p.start(3, 1);
    p.tick('fig9');
    p.stop();
    expect(text).to.match(/2\/3 points/);
  });

  it('writes nothing when the stream is not a terminal', () => {
    const pipe = new PassThrough();
    let text = '';
    pipe.on('data', (b: Buffer) => (text += b.toString()));
    const p = new Progress(pipe, () => undefined, false);
    p.start(3, 0);
    p.tick('fig9');
    p.stop();
    expect(text).to.equal('');
  });
});
