import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

function run(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI', function () {
  this.timeout(120000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flexsc-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('list and machines print the registry and presets', () => {
    const list = run(['list']);
    expect(list.code).to.equal(0);
    expect(list.stdout).to.match(/null-syscall/);
    const machines = run(['machines']);
    expect(machines.code).to.equal(0);
    expect(machines.stdout).to.match(/nehalem-2010 +4 cores @ 2\.3 GHz/);
    expect(machines.stdout).to.match(/skylake-sp-2017/);
  });

  it('run writes the five outputs with the effective config in meta.json', () => {
    const r = run(['run', 'null-syscall', '--quick', '--out', dir, '--set', 'hw.l1d.sizeKiB=64']);
    expect(r.code, r.stderr).to.equal(0);
    expect(readdirSync(dir).filter((f) => !f.startsWith('.')).sort()).to.deep.equal(
      ['null-syscall.csv', 'null-syscall.meta.json', 'null-syscall.png', 'null-syscall.svg', 'null-syscall.vl.json'],
    );
    const meta = JSON.parse(readFileSync(join(dir, 'null-syscall.meta.json'), 'utf8'));
    expect(meta).to.include({ experiment: 'null-syscall', machine: 'nehalem-2010', seed: 1, quick: true });
    expect(meta.overrides).to.deep.equal(['hw.l1d.sizeKiB=64']);
    expect(meta.config.hw.l1d.sizeKiB).to.equal(64);
    const csv = readFileSync(join(dir, 'null-syscall.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).to.equal('kpti,user_pages,round_trip_cycles,round_trip_ns,user_overhead_cycles,total_cycles_per_call,user_tlb_misses_per_call,paper_round_trip_cycles');
    expect(csv[1]).to.match(/^off,1,114\.0,/); // §2.1's 79:71 split of the 114 cycles Fig. 9 leaves (see the preset)
  });

  it('fig2 keeps each point\'s cycle stacks in meta.json as evidence for its rows', () => {
    const r = run(['run', 'fig2', '--quick', '--out', dir]);
    expect(r.code, r.stderr).to.equal(0);
    const meta = JSON.parse(readFileSync(join(dir, 'fig2.meta.json'), 'utf8'));
    expect(meta.details).to.have.length(3);
    const stacks = meta.details[0].cycleStackPerInterval;
    expect(meta.details[0].point).to.deep.equal({ instructions_between_syscalls: 1000 });
    // Without calls only user categories appear; a pwrite adds the exception entry to the
    // user side and its own execution to the kernel side, and pollution shows as cross misses.
    expect(Object.keys(stacks.none).every((k: string) => k.startsWith('user_'))).to.equal(true);
    expect(stacks.pwrite.user_mode_switch).to.equal(meta.config.hw.modeSwitch.exceptionEntryCycles);
    expect(stacks.pwrite.kernel_base).to.be.greaterThan(0);
    expect(stacks.pwrite.user_l2_hit_cross).to.be.greaterThan(0);
  });

  it('same seed, same bytes: two runs give identical CSVs', () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    expect(run(['run', 'null-syscall', '--quick', '--out', a]).code).to.equal(0);
    expect(run(['run', 'null-syscall', '--quick', '--out', b]).code).to.equal(0);
    expect(readFileSync(join(a, 'null-syscall.csv'))).to.deep.equal(readFileSync(join(b, 'null-syscall.csv')));
  });

  it('reproduce writes every experiment and summary.md', function () {
    this.timeout(600_000);
    const r = run(['reproduce', '--quick', '--out', dir]);
    expect(r.code, r.stderr).to.equal(0);
    expect(existsSync(join(dir, 'summary.md'))).to.equal(true);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).to.match(/## null-syscall/);
  });

  const usage: [string, string[], RegExp][] = [
    ['unknown experiment', ['run', 'fig99'], /unknown experiment 'fig99': expected one of .*null-syscall/],
    ['unknown machine', ['run', 'null-syscall', '--machine', 'vax'], /unknown machine 'vax'/],
    ['bad override', ['run', 'null-syscall', '--set', 'hw.l1d.ways=0'], /hw\.l1d\.ways: Too small/],
    ['bad seed', ['run', 'null-syscall', '--seed', 'abc'], /--seed.*expected an integer/],
    ['unknown command', ['frobnicate'], /unknown command/],
    ['missing argument', ['run'], /missing required argument/],
    ['unknown option', ['run', 'null-syscall', '--fast'], /unknown option/],
  ];
  for (const [what, args, pattern] of usage) {
    it(`exits 2 on ${what}, without writing output`, () => {
      const r = run([...args, '--out', dir].filter((a, i, all) => !(args[0] === 'frobnicate' && i >= all.length - 2)));
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(pattern);
      expect(r.stderr).to.not.match(/\n\s+at /); // no stack trace for user errors
      expect(readdirSync(dir)).to.deep.equal([]);
    });
  }

  it('stops quietly when its output is piped into a reader that quits early', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${cli}" machines | head -c 10`], { encoding: 'utf8' });
    expect(r.status).to.equal(0);
    expect(r.stdout).to.have.length(10);
    expect(r.stderr).to.equal('');
  });

  it('--help exits 0', () => {
    const out = execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    expect(out).to.match(/Usage: flexsc-sim/);
  });
});
