/**
 * Bad input of every kind a user can hand the tool — configurations, command-line
 * arguments, experiment files, strace and lackey traces (malformed lines, truncated
 * compressed files), shard files to merge — each must give exit code 2, a message that
 * names the file and line or the parameter and says what was expected, no stack trace, and
 * no output file.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const fixtures = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

function run(args: string[], cwd: string): { code: number; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd });
  return { code: r.status ?? -1, stderr: r.stderr };
}

describe('bad input: exit 2, the culprit named, nothing written', function () {
  this.timeout(300_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'flexsc-bad-'));
    const w = (name: string, text: string | Buffer) => writeFileSync(join(dir, name), text);
    w('garbage.strace', 'garbage line here\n');
    w('bad-line.strace', '12345 10:00:00.000001 read(3, "x", 1) = 1 <0.000010>\n12345 ???\n');
    w('empty.strace', '');
    w('trunc.strace.xz', readFileSync(join(fixtures, 'strace/bind-dnsperf.strace.xz')).subarray(0, 300));
    w('bad.lackey', 'I  04000000,3\nbogus record\n');
    w('bad-size.lackey', ' L 04000000,x\n');
    w('trunc.lackey.gz', readFileSync(join(fixtures, 'lackey/calls.lackey.gz')).subarray(0, 200));
    w('broken.json', '{not json');
    const exp = (o: object) => JSON.stringify({ id: 'user-exp', workload: 'apache', grid: { cores: [1], concurrency: [16], mechanism: ['sync'] }, ...o });
    w('bad-id.json', exp({ id: 'Bad Id' }));
    w('bad-workload.json', exp({ workload: 'nginx' }));
    w('bad-entries.json', exp({ grid: { cores: [1], concurrency: [16], mechanism: ['flexsc'], entries_per_core: [100] } }));
    w('huge.json', exp({ requests: { warmup: 1, measured: 1e9 } }));
    w('one-replication.json', exp({ replications: 1 }));
    w('no-windows.json', exp({ requests: { warmup: 10, measured: 100, max_windows: 0 } }));
    w('negative-drift.json', exp({ requests: { warmup: 10, measured: 100, drift_limit_pct: -1 } }));
    w('extra-key.json', exp({ color: 'red' }));
    w('bad-override.json', exp({ overrides: ['hw.l1d.ways=3'] }));
    w('empty-grid.json', exp({ grid: { cores: [], concurrency: [16], mechanism: ['sync'] } }));
    // Shards to merge: one good run split in two, then spoiled copies.
    const ok = (args: string[]) => expect(run(args, dir).code).to.equal(0);
    ok(['run', 'null-syscall', '--quick', '--jobs', '1', '--shard', '1/2', '--out', 'shard1']);
    ok(['run', 'null-syscall', '--quick', '--jobs', '1', '--shard', '2/2', '--out', 'shard2']);
    mkdirSync(join(dir, 'corrupt'));
    w('corrupt/null-syscall.shard-2-of-2.json', '{"half a file":');
    mkdirSync(join(dir, 'reseeded'));
    const f = readdirSync(join(dir, 'shard2')).find((n) => n.endsWith('.json'))!;
    const shard = JSON.parse(readFileSync(join(dir, 'shard2', f), 'utf8')) as { identity: { seed: number } };
    shard.identity.seed = 7;
    w(`reseeded/${f}`, JSON.stringify(shard));
    mkdirSync(join(dir, 'copy1'));
    for (const n of readdirSync(join(dir, 'shard1'))) copyFileSync(join(dir, 'shard1', n), join(dir, 'copy1', n));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, string[], RegExp][] = [
    // Configurations (--set, --machine).
    ['cache size not a whole number of sets', ['run', 'null-syscall', '--set', 'hw.l1d.ways=3'], /hw\.l1d\.sizeKiB: 32 KiB is not a whole number of sets of 3 ways/],
    ['line size not a power of two', ['run', 'null-syscall', '--set', 'hw.lineBytes=48'], /hw\.lineBytes: must be a power of two/],
    ['zero cores', ['run', 'null-syscall', '--set', 'hw.cores=0'], /hw\.cores: Too small/],
    ['zero syscall pages', ['run', 'fig9', '--set', 'os.flexsc.pagesPerCore=0'], /os\.flexsc\.pagesPerCore: Too small/],
    ['a syscall core list that is not one', ['run', 'fig9', '--set', 'os.flexsc.syscallCores=abc'], /os\.flexsc\.syscallCores: expected "all" or core numbers/],
    ['a syscall core the machine lacks', ['run', 'fig9', '--set', 'os.flexsc.syscallCores=9'], /os\.flexsc\.syscallCores: core 9 does not exist on a 4-core machine/],
    ['a 1 TB cache', ['run', 'null-syscall', '--set', 'hw.l3.sizeKiB=1073741824'], /hw\.l3\.sizeKiB: Too big/],
    ['an unknown KPTI mode', ['run', 'null-syscall', '--set', 'hw.modeSwitch.kpti=maybe'], /hw\.modeSwitch\.kpti: Invalid option: expected one of "off"\|"pcid"\|"nopcid"/],
    ['a boolean that is not one', ['run', 'null-syscall', '--set', 'hw.prefetch.enabled=yes'], /--set hw\.prefetch\.enabled=yes: expected true or false/],
    ['a section set as a value', ['run', 'null-syscall', '--set', 'hw.l1d=64'], /--set hw\.l1d: is a section, not a value/],
    ['an experiment the configuration cannot run', ['run', 'fig10', '--quick', '--set', 'hw.cores=1'], /hw\.cores: the remote-core benchmark \(fig10\) needs at least 2 cores/],
    ['an unknown machine', ['run', 'null-syscall', '--machine', 'vax'], /unknown machine 'vax': expected one of/],
    // Command-line arguments.
    ['--jobs 0', ['run', 'null-syscall', '--jobs', '0'], /'--jobs <n>' argument '0' is invalid/],
    ['--shard 3/2', ['run', 'null-syscall', '--shard', '3/2'], /'--shard <i\/n>' argument '3\/2' is invalid/],
    ['--seed -1', ['run', 'null-syscall', '--seed', '-1'], /'--seed <n>' argument '-1' is invalid/],
    ['an unknown experiment', ['run', 'fig99'], /unknown experiment 'fig99'/],
    ['trace --cores 0', ['trace', 'bad-line.strace', '--cores', '0'], /'--cores <n>' argument '0' is invalid/],
    // Experiment files.
    ['an experiment file that does not exist', ['run', 'missing.json'], /missing\.json: cannot read the experiment file \(ENOENT\)/],
    ['an experiment file that is not JSON', ['run', 'broken.json'], /broken\.json: not valid JSON/],
    ['an experiment id that cannot name files', ['run', 'bad-id.json'], /bad-id\.json: invalid experiment\nid: expected lower-case letters/],
    ['an unknown workload', ['run', 'bad-workload.json'], /workload: Invalid option: expected one of "apache"\|"mysql"\|"bind"/],
    ['entries that are not whole pages', ['run', 'bad-entries.json'], /grid\.entries_per_core\.0: expected a multiple of 64/],
    ['10^9 requests', ['run', 'huge.json'], /requests\.measured: Too big: expected number to be <=1000000/],
    ['no measurement window', ['run', 'no-windows.json'], /requests\.max_windows: Too small: expected number to be >=1/],
    ['a negative drift limit', ['run', 'negative-drift.json'], /requests\.drift_limit_pct: Too small: expected number to be >=0/],
    ['one replication', ['run', 'one-replication.json'], /replications: expected at least 2 \(one run needs no replications\)/],
    ['replications of an experiment without runs to average', ['run', 'fig9', '--replications', '3'], /--replications 3: fig9 cannot be replicated/],
    ['a replication count that is not a whole number', ['run', 'fig11', '--replications', '2.5'], /--replications.*expected a whole number of runs per point, 1 to 1000/],
    ['an unknown key', ['run', 'extra-key.json'], /extra-key\.json: invalid experiment\n.*Unrecognized key: "color"/],
    ['an override that breaks the machine', ['run', 'bad-override.json'], /bad-override\.json: its overrides make an invalid configuration\nhw\.l1d\.sizeKiB/],
    ['an empty grid axis', ['run', 'empty-grid.json'], /grid\.cores: expected at least one value/],
    // Traces.
    ['a strace line that is not one', ['trace', 'garbage.strace'], /garbage\.strace:1: /],
    ['a malformed strace line after good ones', ['trace', 'bad-line.strace'], /bad-line\.strace:2: expected a call/],
    ['a trace without calls', ['trace', 'empty.strace'], /empty\.strace: no system calls in the trace/],
    ['a truncated xz trace', ['trace', 'trunc.strace.xz'], /trunc\.strace\.xz: expected a complete xz stream/],
    ['a malformed lackey record', ['cache', 'bad.lackey'], /bad\.lackey:2: expected a record/],
    ['a lackey size that is not a number', ['cache', 'bad-size.lackey'], /bad-size\.lackey:1: /],
    ['a truncated gzip lackey trace', ['cache', 'trunc.lackey.gz'], /trunc\.lackey\.gz: expected a complete gzip stream/],
    ['a cache geometry cachegrind refuses', ['cache', 'bad.lackey', '--I1', '1000,3,64'], /--I1=1000,3,64: expected .* power-of-two number of sets/],
    // Shard files to merge.
    ['a shard file that is half written', ['merge', 'shard1', 'corrupt'], /corrupt.*null-syscall\.shard-2-of-2\.json/],
    ['shards of different seeds', ['merge', 'shard1', 'reseeded'], /seed/],
    ['a shard missing', ['merge', 'shard1'], /missing/],
    ['the same shard twice', ['merge', 'shard1', 'copy1'], /twice|duplicat|more than once/],
  ];

  it(`covers at least 30 bad inputs (${cases.length})`, () => {
    expect(cases.length).to.be.at.least(30);
  });

  for (const [what, args, pattern] of cases) {
    it(what, () => {
      const out = join(dir, `out-${what.replace(/\W+/g, '-')}`);
      const withOut = args[0] === 'cache' ? args : [...args, '--out', out];
      const r = run(withOut, dir);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.match(pattern);
      expect(r.stderr).to.not.match(/\n\s+at /); // no stack trace for a user's mistake
      expect(existsSync(out), 'no output directory').to.equal(false);
    });
  }
});
