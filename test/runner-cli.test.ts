/**
 * The runner from the command line (compiled CLI in child processes): the same CSV and
 * meta.json with --jobs 1, --jobs 2 and three shards merged; a run killed with SIGKILL and
 * resumed gives the same bytes as an uninterrupted one; SIGTERM/SIGINT exit 143/130 keeping
 * the finished points and printing the --resume command; merge refuses shards that disagree
 * or miss points; bad arguments exit 2 naming the parameter and writing nothing.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { main } from '../src/cli.js';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

/** Runs the CLI in this process (for arguments refused before any work), capturing its output. */
async function inProcess(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const here = process.cwd();
  let stdout = '';
  let stderr = '';
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    if (cwd) process.chdir(cwd);
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.chdir(here);
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

function run(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Waits until a running sweep has kept its first finished point in `partials`; fails if it ended first. */
async function untilFirstPointKept(child: ChildProcess, partials: string): Promise<void> {
  while (!(existsSync(partials) && readdirSync(partials).some((f) => f.endsWith('.json')))) {
    expect(child.exitCode, 'the run ended before it could be stopped').to.equal(null);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function ok(args: string[]): { stdout: string; stderr: string } {
  const r = run(args);
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).to.equal(0);
  return r;
}

const bytes = (dir: string, file: string): Buffer => readFileSync(join(dir, file));

describe('runner from the command line', function () {
  this.timeout(120000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'flexsc-runner-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('--jobs and --shard give the same bytes', () => {
    before(() => {
      ok(['run', 'fig9', '--quick', '--jobs', '1', '--out', join(dir, 'j1')]);
      for (const i of [1, 2, 3]) ok(['run', 'fig9', '--quick', '--jobs', '1', '--shard', `${i}/3`, '--out', join(dir, `shard${i}`)]);
    });

    it('--jobs 2 (worker threads) writes the same CSV and meta.json as --jobs 1, and nothing on stderr off a terminal', () => {
      const r = ok(['run', 'fig9', '--quick', '--jobs', '2', '--out', join(dir, 'j2')]);
      expect(r.stderr).to.equal('');
      expect(bytes(join(dir, 'j2'), 'fig9.csv')).to.deep.equal(bytes(join(dir, 'j1'), 'fig9.csv'));
      expect(bytes(join(dir, 'j2'), 'fig9.meta.json')).to.deep.equal(bytes(join(dir, 'j1'), 'fig9.meta.json'));
      expect(existsSync(join(dir, 'j2', '.partial'))).to.equal(false);
    });

    it('each shard holds its slice; merged, the three give the same CSV and meta.json', () => {
      const held = [1, 2, 3].map((i) => {
        const s = JSON.parse(readFileSync(join(dir, `shard${i}`, `fig9.shard-${i}-of-3.json`), 'utf8')) as { points: { index: number }[] };
        expect(readdirSync(join(dir, `shard${i}`)).filter((f) => f.endsWith('.csv'))).to.deep.equal([]);
        return s.points.map((p) => p.index);
      });
      expect(held).to.deep.equal([[0], [1], [2]]);
      const out = join(dir, 'merged');
      ok(['merge', join(dir, 'shard1'), join(dir, 'shard2'), join(dir, 'shard3'), '--out', out]);
      expect(bytes(out, 'fig9.csv')).to.deep.equal(bytes(join(dir, 'j1'), 'fig9.csv'));
      expect(bytes(out, 'fig9.meta.json')).to.deep.equal(bytes(join(dir, 'j1'), 'fig9.meta.json'));
      expect(readdirSync(out).sort()).to.deep.equal(['fig9.csv', 'fig9.meta.json', 'fig9.png', 'fig9.svg', 'fig9.vl.json']);
    });

    it('shards of an experiment file merge with --experiment FILE.json, and only with the file they were made from', async () => {
      const file = join(dir, 'tiny.json');
      const spec = { id: 'tiny', workload: 'bind', grid: { cores: [1], concurrency: [2, 4], mechanism: ['sync'] }, requests: { warmup: 20, measured: 40 } };
      writeFileSync(file, JSON.stringify(spec));
      ok(['run', file, '--jobs', '1', '--out', join(dir, 'tiny-whole')]);
      for (const i of [1, 2]) ok(['run', file, '--jobs', '1', '--shard', `${i}/2`, '--out', join(dir, `tiny-shard${i}`)]);
      const shards = [join(dir, 'tiny-shard1'), join(dir, 'tiny-shard2')];
      const missing = await inProcess(['merge', ...shards, '--out', join(dir, 'tiny-nofile')]);
      expect(missing.code).to.equal(2);
      expect(missing.stderr).to.match(/comes from an experiment file \(tiny\); name it with --experiment FILE\.json/);
      ok(['merge', ...shards, '--experiment', file, '--out', join(dir, 'tiny-merged')]);
      expect(bytes(join(dir, 'tiny-merged'), 'tiny.csv')).to.deep.equal(bytes(join(dir, 'tiny-whole'), 'tiny.csv'));
      expect(bytes(join(dir, 'tiny-merged'), 'tiny.meta.json')).to.deep.equal(bytes(join(dir, 'tiny-whole'), 'tiny.meta.json'));
      writeFileSync(file, JSON.stringify({ ...spec, requests: { warmup: 20, measured: 80 } }));
      const edited = await inProcess(['merge', ...shards, '--experiment', file, '--out', join(dir, 'tiny-edited')]);
      expect(edited.code).to.equal(2);
      expect(edited.stderr).to.match(/was made from another version of .*tiny\.json/);
      expect(existsSync(join(dir, 'tiny-edited'))).to.equal(false);
    });

    it('merge refuses a missing shard, naming the points and the shard', async () => {
      const out = join(dir, 'merge-missing');
      const r = await inProcess(['merge', join(dir, 'shard1'), join(dir, 'shard3'), '--out', out]);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/fig9: 1 of 3 points missing \(index 1\); no file of shard 2\/3 was given/);
      expect(existsSync(out)).to.equal(false);
    });

    it('merge refuses shards whose meta disagree, naming the field', async () => {
      const other = join(dir, 'shard2-seed');
      ok(['run', 'fig9', '--quick', '--jobs', '1', '--seed', '2', '--shard', '2/3', '--out', other]);
      const out = join(dir, 'merge-seed');
      const r = await inProcess(['merge', join(dir, 'shard1'), other, join(dir, 'shard3'), '--out', out]);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/fig9: shards disagree on seed: .*shard-1-of-3\.json has 1, .*shard-2-of-3\.json has 2/);
      expect(r.stderr).to.not.match(/\n\s+at /);
      expect(existsSync(out)).to.equal(false);
    });

    it('merge refuses a shard file edited to another machine (its meta no longer agrees)', async () => {
      const edited = join(dir, 'shard2-machine');
      mkdirSync(edited);
      const text = readFileSync(join(dir, 'shard2', 'fig9.shard-2-of-3.json'), 'utf8');
      writeFileSync(join(edited, 'fig9.shard-2-of-3.json'), text.replace('"machine":"nehalem-2010"', '"machine":"skylake-sp-2017"'));
      const out = join(dir, 'merge-machine');
      const r = await inProcess(['merge', join(dir, 'shard1'), edited, join(dir, 'shard3'), '--out', out]);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/shards disagree on machine: .* has "nehalem-2010", .* has "skylake-sp-2017"/);
      expect(existsSync(out)).to.equal(false);
    });

    it('merge refuses a point held by two shard files', async () => {
      const r = await inProcess(['merge', join(dir, 'shard1'), join(dir, 'shard2'), join(dir, 'shard3'), join(dir, 'shard2', 'fig9.shard-2-of-3.json'), '--out', join(dir, 'merge-dup')]);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/fig9: point 1 \{"batch_size":8\} is duplicated: it is in .*shard2.*fig9\.shard-2-of-3\.json and in .*shard2.*fig9\.shard-2-of-3\.json/);
    });
  });

  for (const jobs of ['1', '2']) {
    it(`--max-events stops a runaway simulation: exit 1, the point and the limit named, no stack, no CSV (--jobs ${jobs})`, () => {
      const out = join(dir, `max-events-${jobs}`);
      const r = run(['run', 'fig9', '--quick', '--jobs', jobs, '--max-events', '1000', '--out', out]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(/run failed: fig9 point \d+ \(batch_size=\d+\) failed: stopped by --max-events 1000: one simulation processed more than 1000 events/);
      expect(r.stderr).to.not.match(/\n\s+at /);
      expect(existsSync(join(out, 'fig9.csv'))).to.equal(false);
    });
  }

  it('a --max-events limit the run stays under changes nothing: same bytes as without it', () => {
    const limited = join(dir, 'max-events-ample');
    const free = join(dir, 'max-events-none');
    ok(['run', 'fig9', '--quick', '--jobs', '1', '--max-events', '50000000', '--out', limited]);
    ok(['run', 'fig9', '--quick', '--jobs', '1', '--out', free]);
    expect(readFileSync(join(limited, 'fig9.csv'))).to.deep.equal(readFileSync(join(free, 'fig9.csv')));
  });

  it('a run killed (SIGKILL) after its first point, then resumed, gives the bytes of an uninterrupted run', async () => {
    const killed = join(dir, 'killed');
    // fig4 --quick: three points of about half a second each, so the kill lands mid-run.
    const child = spawn(process.execPath, [cli, 'run', 'fig4', '--quick', '--jobs', '1', '--out', killed], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const partials = join(killed, '.partial', 'fig4');
    await untilFirstPointKept(child, partials);
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(join(killed, 'fig4.csv')), 'no fig4.csv from a killed run').to.equal(false);
    const done = readdirSync(partials).filter((f) => /^\d+\.json$/.test(f)).length;
    expect(done).to.be.within(1, 2);

    const resumed = ok(['run', 'fig4', '--quick', '--jobs', '2', '--resume', '--out', killed]);
    expect(resumed.stderr).to.match(new RegExp(`fig4: resuming, ${done} of 3 points already done`));
    ok(['run', 'fig4', '--quick', '--jobs', '1', '--out', join(dir, 'whole')]);
    expect(bytes(killed, 'fig4.csv')).to.deep.equal(bytes(join(dir, 'whole'), 'fig4.csv'));
    expect(bytes(killed, 'fig4.meta.json')).to.deep.equal(bytes(join(dir, 'whole'), 'fig4.meta.json'));
    expect(existsSync(join(killed, '.partial'))).to.equal(false);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} mid-run (--jobs 2): exit ${signal === 'SIGTERM' ? 143 : 130}, the points done kept, the --resume command printed, no CSV`, async () => {
      const out = join(dir, `signal-${signal}`);
      const child = spawn(process.execPath, [cli, 'run', 'fig4', '--quick', '--jobs', '2', '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const partials = join(out, '.partial', 'fig4');
      await untilFirstPointKept(child, partials);
      child.kill(signal);
      const code = await exited;
      expect(code, stderr).to.equal(signal === 'SIGTERM' ? 143 : 130);
      expect(stderr).to.match(new RegExp(`interrupted by ${signal} \\(\\d of 3 points done`));
      expect(stderr).to.match(/to continue where it stopped, run:\n.*run fig4 --quick --jobs 2 --out .* --resume/);
      expect(existsSync(join(out, 'fig4.csv')), 'no fig4.csv from an interrupted run').to.equal(false);
      expect(readdirSync(partials).filter((f) => /^\d+\.json$/.test(f)).length).to.be.within(1, 2);
    });
  }

  describe('bad arguments: exit 2, a message naming the parameter, no output', () => {
    const cases: [string, string[], RegExp][] = [
      ['--jobs 0', ['run', 'fig9', '--jobs', '0'], /option '--jobs <n>' argument '0' is invalid\. expected a whole number of at least 1/],
      ['--jobs abc', ['run', 'fig9', '--jobs', 'abc'], /option '--jobs <n>' argument 'abc' is invalid/],
      ['--jobs 1.5', ['reproduce', '--jobs', '1.5'], /option '--jobs <n>' argument '1\.5' is invalid/],
      ['--shard 3/2', ['run', 'fig9', '--shard', '3/2'], /option '--shard <i\/n>' argument '3\/2' is invalid\. the shard number i must be from 1 to 2/],
      ['--shard 0/2', ['reproduce', '--shard', '0/2'], /option '--shard <i\/n>' argument '0\/2' is invalid\. the shard number i must be from 1 to 2/],
      ['--shard 2', ['run', 'fig9', '--shard', '2'], /option '--shard <i\/n>' argument '2' is invalid\. expected i\/n/],
      ['--seed abc', ['run', 'fig9', '--seed', 'abc'], /option '--seed <n>' argument 'abc' is invalid\. expected an integer/],
      ['--seed -1', ['run', 'fig9', '--seed', '-1'], /option '--seed <n>' argument '-1' is invalid/],
      ['--max-seconds 0', ['run', 'fig9', '--max-seconds', '0'], /option '--max-seconds <s>' argument '0' is invalid\. expected a number of seconds greater than 0/],
      ['--max-seconds soon', ['run', 'fig9', '--max-seconds', 'soon'], /option '--max-seconds <s>' argument 'soon' is invalid/],
      ['--max-events 0', ['run', 'fig9', '--max-events', '0'], /option '--max-events <n>' argument '0' is invalid\. expected a whole number of events, at least 1/],
      ['--max-events 1e3', ['run', 'fig9', '--max-events', '1e3'], /option '--max-events <n>' argument '1e3' is invalid/],
      ['an unknown experiment', ['run', 'fig99'], /unknown experiment 'fig99': expected one of .*fig9/],
      ['an unknown machine', ['reproduce', '--machine', 'vax'], /unknown machine 'vax': expected one of .*nehalem-2010/],
      ['a malformed --set', ['run', 'fig9', '--set', 'hw.l1d.ways'], /--set 'hw\.l1d\.ways': expected path=value/],
      ['a --set of an unknown path', ['run', 'fig9', '--set', 'hw.l1x.ways=2'], /--set hw\.l1x\.ways: unknown path/],
      ['an invalid --set value', ['run', 'fig9', '--set', 'hw.l1d.ways=0'], /hw\.l1d\.ways: Too small/],
      ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
      ['merge of a missing directory', ['merge', 'no-such-dir'], /merge: no-such-dir: no such file or directory/],
      ['merge of a directory without shards', ['merge', '.'], /merge: \.: no shard files/],
    ];
    for (const [what, args, pattern] of cases) {
      it(what, async () => {
        const out = join(dir, `bad-${what.replace(/\W+/g, '-')}`);
        const withOut = args[0] === 'frobnicate' ? args : [...args, '--out', out];
        const r = await inProcess(withOut, dir);
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stderr).to.match(pattern);
        expect(r.stderr).to.not.match(/\n\s+at /); // no stack trace for user errors
        expect(existsSync(out), 'no output directory').to.equal(false);
      });
    }

    it('the process itself exits 2 (checked for two of them)', () => {
      for (const args of [['run', 'fig9', '--jobs', '0'], ['reproduce', '--shard', '3/2']]) {
        const out = join(dir, 'bad-process');
        const r = run([...args, '--out', out]);
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stderr).to.match(/is invalid/);
        expect(existsSync(out)).to.equal(false);
      }
    });
  });
});
