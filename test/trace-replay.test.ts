/**
 * The trace replay (src/workloads/trace/replay.ts, replay-calls.ts) and the `trace`
 * command (src/commands/trace.ts): the rules on small synthetic traces, then every recorded
 * fixture of test/fixtures/strace (capped at a few hundred to a thousand replayed calls so
 * the file stays well under a minute; the counts always cover the whole trace), determinism
 * and bad input.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { PREDICTION_COLUMNS, SYSCALL_COLUMNS, traceCommand, type TraceOptions } from '../src/commands/trace.js';
import { FileInputError, InputError } from '../src/errors.js';
import { buildRunConfig } from '../src/run-config.js';
import { argvOf, canSleep, kernelPathOf, slept } from '../src/workloads/trace/replay-calls.js';
import { REFERENCE_INSTRUCTIONS_PER_CALL, planReplay, recordTrace, runReplay } from '../src/workloads/trace/replay.js';
import { parseStraceText, summarizeStrace, type SyscallEvent } from '../src/workloads/trace/strace.js';

/** Compiled tests run from dist/test; fixtures stay in the source tree. */
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/strace/', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

const OPTIONS: TraceOptions = {
  machine: 'nehalem-2010',
  out: '',
  seed: 1,
  set: [],
  lenient: false,
  trust: 'mix',
  waits: 'timeline',
  userIpc: 0.5,
  waitThresholdUs: 100,
  maxCalls: 200_000,
  jobs: 2,
};

type CsvRow = Record<string, string>;
const readCsv = (path: string): CsvRow[] => parse(readFileSync(path, 'utf8'), { columns: true }) as CsvRow[];

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function call(line: string): SyscallEvent {
  const ev = parseStraceText(line).events[0];
  if (ev?.type !== 'syscall') throw new Error(`not a call: ${line}`);
  return ev;
}
/** The argument list as the replay splits it. */
const argv = (ev: SyscallEvent) => argvOf(ev);

describe('trace replay', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flexsc-trace-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('rules', () => {
    it('maps calls to catalog paths by name and fd kind, unknown calls to generic copies of a template', () => {
      expect(kernelPathOf('read', 'TCP', '5<TCP:[1->2]>')).to.deep.equal({ kind: 'recv' });
      expect(kernelPathOf('readv', 'pipe', '5<pipe:[9]>')).to.deep.equal({ kind: 'pipe-read' });
      expect(kernelPathOf('recvfrom', 'UDP', '5<UDP:[1]>')).to.deep.equal({ kind: 'recv' });
      expect(kernelPathOf('read', 'file', '5</x>')).to.deep.equal({ kind: 'read' });
      expect(kernelPathOf('writev', 'TCP', '5<TCP:[1->2]>')).to.deep.equal({ kind: 'send' });
      expect(kernelPathOf('close', 'TCP', '5<TCP:[1->2]>')).to.deep.equal({ kind: 'close-socket' });
      expect(kernelPathOf('statx', 'cwd', 'AT_FDCWD</>')).to.deep.equal({ kind: 'stat' });
      expect(kernelPathOf('epoll_pwait', 'eventpoll', '4<anon_inode:[eventpoll]>')).to.deep.equal({ kind: 'epoll_wait' });
      expect(kernelPathOf('accept', 'TCP listen', '3<TCP:[80]>')).to.deep.equal({ kind: 'accept4' });
      expect(kernelPathOf('gettid', 'none', undefined)).to.deep.equal({ kind: 'getppid' });
      expect(kernelPathOf('getrandom', 'none', '0x7ffc')).to.deep.equal({ kind: 'getrandom~mprotect', template: 'mprotect' });
      expect(kernelPathOf('ioctl', 'TCP', '5<TCP:[1->2]>')).to.deep.equal({ kind: 'ioctl~setsockopt', template: 'setsockopt' });
      expect(kernelPathOf('lseek', 'file', '5</x>')).to.deep.equal({ kind: 'lseek~fcntl', template: 'fcntl' });
      expect(kernelPathOf('unlink', 'none', '"/tmp/x"')).to.deep.equal({ kind: 'unlink~stat', template: 'stat' });
    });

    it('counts a call as slept only if it can block, was no probe, and took the threshold (or is a sleep, or pending)', () => {
      const wait = call('1 10:00:00.000001 futex(0x55, FUTEX_WAIT_PRIVATE, 2, NULL) = 0 <0.000500>');
      expect(slept(wait, argv(wait), 100)).to.equal(true);
      expect(slept(wait, argv(wait), 1000)).to.equal(false);
      const wake = call('1 10:00:00.000001 futex(0x55, FUTEX_WAKE_PRIVATE, 1) = 1 <0.000500>');
      expect(canSleep(wake, argv(wake))).to.equal(false);
      const probe = call('1 10:00:00.000001 read(5<TCP:[1->2]>, 0x55, 64) = -1 EAGAIN (Resource temporarily unavailable) <0.000500>');
      expect(slept(probe, argv(probe), 100)).to.equal(false);
      const dontwait = call('1 10:00:00.000001 recvfrom(5<TCP:[1->2]>, "x", 4, MSG_DONTWAIT, NULL, NULL) = 4 <0.000500>');
      expect(slept(dontwait, argv(dontwait), 100)).to.equal(false);
      const poll0 = call('1 10:00:00.000001 epoll_wait(4<anon_inode:[eventpoll]>, [], 10, 0) = 0 <0.000500>');
      expect(slept(poll0, argv(poll0), 100)).to.equal(false);
      const nap = call('1 10:00:00.000001 nanosleep({tv_sec=0, tv_nsec=1000}, NULL) = 0 <0.000010>');
      expect(slept(nap, argv(nap), 100)).to.equal(true);
      const write = call('1 10:00:00.000001 write(1</tmp/x>, "x", 1) = 1 <0.005000>');
      expect(slept(write, argv(write), 100)).to.equal(false);
    });

    const synthetic = [
      '1000 10:00:00.000000 getpid() = 1000 <0.000005>',
      '1000 10:00:00.000100 clone(child_stack=0x7f0, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, parent_tid=[1001]) = 1001 <0.000050>',
      '1001 10:00:00.000200 futex(0x55d0, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>',
      '1000 10:00:00.000300 clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=50000000}, 0x7ffd) = 0 <0.050000>',
      '1000 10:00:00.050400 futex(0x55d0, FUTEX_WAKE_PRIVATE, 1) = 1 <0.000010>',
      '1001 10:00:00.050420 <... futex resumed>) = 0 <0.050220>',
      '1000 10:00:00.050500 fork() = 1002 <0.000100>',
      '1002 10:00:00.050700 getpid() = 1002 <0.000005>',
      '1002 10:00:00.050800 exit_group(0) = ?',
      '1002 10:00:00.050900 +++ exited with 0 +++',
      '1001 10:00:00.051000 exit(0) = ?',
      '1001 10:00:00.051100 +++ exited with 0 +++',
      '1000 10:00:00.051200 exit_group(0) = ?',
      '1000 10:00:00.051300 +++ exited with 0 +++',
    ].join('\n');

    it('gives threads their calls in order, processes by clone flags, and estimates strace\'s slowdown from the median gap', async () => {
      const file = join(dir, 'small.strace');
      writeFileSync(file, synthetic + '\n');
      const rec = await recordTrace(file);
      expect(rec.calls).to.equal(10);
      expect(rec.threads.map((t) => [t.tid, t.n, t.process])).to.deep.equal([
        [1000, 6, 0],
        [1001, 2, 0], // CLONE_THREAD: the parent's process
        [1002, 2, 1], // fork: a new process
      ]);
      expect(rec.processes).to.equal(2);
      expect(rec.threads[1]!.parent).to.deep.equal({ thread: 0, call: 1, sameProcess: true });
      expect(rec.threads[2]!.parent).to.deep.equal({ thread: 0, call: 4, sameProcess: false });
      const slept = Object.fromEntries(rec.syscalls.map((s) => [s.name, s.slept]));
      expect(slept).to.include({ futex: 1, clock_nanosleep: 1, getpid: 0 });
      const config = buildRunConfig('nehalem-2010');
      const mix = planReplay(rec, config);
      // The median gap is taken as Table 2's Apache instructions per call.
      expect(mix.instructions(mix.medianGapUs!)).to.be.closeTo(REFERENCE_INSTRUCTIONS_PER_CALL, 1);
      expect(mix.slowdown).to.be.closeTo((mix.medianGapUs! * 0.5 * 2.3 * 1000) / REFERENCE_INSTRUCTIONS_PER_CALL, 1e-9);
      const fixed = planReplay(rec, config, { instructionsPerSyscall: 1234 });
      expect(fixed.instructions(5)).to.equal(1234);
      const durations = planReplay(rec, config, { trust: 'durations' });
      expect(durations.slowdown).to.equal(1);
      expect(durations.instructions(100)).to.equal(Math.round(100 * 0.5 * 2.3 * 1000));
    });

    it('makes calls that slept wait for the trace\'s timeline, and --waits none drop the waits', async () => {
      const file = join(dir, 'small.strace');
      writeFileSync(file, synthetic + '\n');
      const rec = await recordTrace(file);
      const config = buildRunConfig('nehalem-2010');
      const run = (waits: 'timeline' | 'none', mechanism: 'sync' | 'flexsc') =>
        // Slowdown 1: the trace's own timeline; a fixed, small user work per gap keeps the run short.
        runReplay(rec, planReplay(rec, config, { slowdown: 1, instructionsPerSyscall: 1000, waits }), config, { mechanism, cores: 2, seed: 1 });
      for (const mechanism of ['sync', 'flexsc'] as const) {
        const timeline = run('timeline', mechanism);
        const none = run('none', mechanism);
        // The nanosleep returned 50.3 ms into the trace; its waiter cannot finish before.
        expect(timeline.elapsedMs, mechanism).to.be.greaterThan(50.3);
        expect(none.elapsedMs, mechanism).to.be.lessThan(5);
        expect(timeline.syscalls).to.equal(10);
        expect(none.syscalls).to.equal(10);
        expect(timeline.threads).to.equal(3);
      }
    });

    it('replays the first --max-calls calls but counts them all', async () => {
      const rec = await recordTrace(join(FIXTURES, 'edge.strace.xz'), { maxCalls: 50 });
      expect(rec.calls).to.equal(191);
      expect(rec.replayed).to.equal(50);
      expect(rec.truncated).to.equal(true);
      expect(rec.threads.reduce((s, t) => s + t.n, 0)).to.equal(50);
      expect(rec.syscalls.reduce((s, c) => s + c.calls, 0)).to.equal(191);
    });
  });

  // The fixtures' README gives each recording's calls and pending calls.
  const FIXTURE_TOTALS = [
    { files: ['apache-ab.strace.xz'], calls: 31_094, pending: 7, maxCalls: 400 },
    { files: ['mariadb-oltp-ro.strace.xz'], calls: 41_199, pending: 14, maxCalls: 400 },
    { files: ['mariadb-oltp-rw.strace.xz'], calls: 33_006, pending: 14, maxCalls: 400 },
    { files: ['bind-dnsperf.strace.xz'], calls: 29_921, pending: 6, maxCalls: 400 },
    { files: ['apache-graceful.strace.xz'], calls: 13_802, pending: 0, maxCalls: 400 },
    { files: ['edge.strace.xz'], calls: 191, pending: 0, maxCalls: 200_000 },
    {
      files: ['13124', '13125', '13126', '13127', '13128', '13129', '13130', '13131', '13132', '13133'].map((t) => `edge-ff/edge.${t}.xz`),
      calls: 191,
      pending: 0,
      maxCalls: 200_000,
    },
  ];

  describe('fixtures', () => {
    for (const fx of FIXTURE_TOTALS) {
      it(`${fx.files[0]}${fx.files.length > 1 ? ' (-ff)' : ''}: a sane sync vs FlexSC prediction, counts equal to the parser's`, async () => {
        const files = fx.files.map((f) => join(FIXTURES, f));
        const out: string[] = [];
        await traceCommand(files, { ...OPTIONS, out: dir, maxCalls: fx.maxCalls }, (s) => out.push(s));
        expect(readdirSync(dir).filter((f) => !f.startsWith('.')).sort()).to.deep.equal(
          ['prediction.csv', 'prediction.png', 'prediction.svg', 'prediction.vl.json', 'syscalls.csv', 'trace.meta.json'],
        );
        const replayed = Math.min(fx.calls, fx.maxCalls);

        const prediction = readCsv(join(dir, 'prediction.csv'));
        expect(Object.keys(prediction[0]!)).to.deep.equal([...PREDICTION_COLUMNS]);
        expect(prediction.map((r) => r.mechanism)).to.deep.equal(['sync', 'flexsc']);
        for (const r of prediction) {
          const num = (c: string) => Number(r[c]);
          expect(num('elapsed_ms'), `${r.mechanism} elapsed`).to.be.greaterThan(0).and.lessThan(1e6);
          expect(num('cpu_ms'), `${r.mechanism} cpu`).to.be.greaterThan(0);
          expect(num('cpu_ms'), `${r.mechanism} cpu ≤ cores × elapsed`).to.be.at.most(num('cores') * num('elapsed_ms') * 1.01 + 0.01);
          for (const c of ['user_ipc', 'kernel_ipc']) expect(num(c), `${r.mechanism} ${c}`).to.be.greaterThan(0).and.lessThan(4);
          const pct = ['user_pct', 'user_pollution_pct', 'kernel_pct', 'mode_switch_pct', 'idle_pct'].reduce((s, c) => s + num(c), 0);
          expect(pct, `${r.mechanism} percentages`).to.be.closeTo(100, 0.1);
          // Every replayed call entered the kernel: trapped (sync) or posted to a syscall page (flexsc).
          expect(num('syscalls'), `${r.mechanism} syscalls`).to.equal(replayed);
          expect(num('user_instructions')).to.be.greaterThan(0);
        }
        // FlexSC avoids most mode switches.
        expect(Number(prediction[1]!.mode_switch_pct)).to.be.lessThan(Number(prediction[0]!.mode_switch_pct));

        const rows = readCsv(join(dir, 'syscalls.csv'));
        expect(Object.keys(rows[0]!)).to.deep.equal([...SYSCALL_COLUMNS]);
        const summary = await summarizeStrace(files);
        expect(summary.calls).to.equal(fx.calls);
        expect(rows.reduce((s, r) => s + Number(r.count), 0)).to.equal(fx.calls);
        expect(rows.reduce((s, r) => s + Number(r.pending), 0)).to.equal(fx.pending);
        expect(rows.reduce((s, r) => s + Number(r.replayed), 0)).to.equal(replayed);
        expect(Object.fromEntries(rows.map((r) => [r.syscall, Number(r.count)]))).to.deep.equal(
          Object.fromEntries([...summary.syscalls].map(([name, t]) => [name, t.calls])),
        );
        for (const r of rows) {
          if (Number(r.replayed) === 0) continue;
          expect(Number(r.kernel_cycles_per_call), r.syscall).to.be.greaterThan(0);
          expect(Number(r.user_lines_evicted_per_call), r.syscall).to.be.at.least(0);
          expect(r.kernel_path, r.syscall).to.not.equal('');
        }
        expect(out.join('')).to.match(/sync takes [\d.,]+ ms and FlexSC [\d.,]+ ms/);
      });
    }
  });

  describe('determinism and bad input', () => {
    it('the same trace, options and seed give byte-identical CSVs, in process or not, with one job or two', async () => {
      const trace = join(FIXTURES, 'apache-ab.strace.xz');
      const a = join(dir, 'a');
      const b = join(dir, 'b');
      await traceCommand([trace], { ...OPTIONS, out: a, maxCalls: 100, jobs: 2 }, () => {});
      const r = cli(['trace', trace, '--out', b, '--max-calls', '100', '--jobs', '1']);
      expect(r.code, r.stderr).to.equal(0);
      for (const f of ['syscalls.csv', 'prediction.csv']) {
        expect(readFileSync(join(b, f), 'utf8'), f).to.equal(readFileSync(join(a, f), 'utf8'));
      }
      // A different seed is a different run (the footprints' random references).
      const c = join(dir, 'c');
      await traceCommand([trace], { ...OPTIONS, out: c, maxCalls: 100, seed: 2 }, () => {});
      expect(readFileSync(join(c, 'prediction.csv'), 'utf8')).to.not.equal(readFileSync(join(a, 'prediction.csv'), 'utf8'));
    });

    const BAD = [
      '100 10:00:00.000100 getpid() = 100 <0.000010>',
      '100 10:00:00.000200 read(3</tmp/x>, "abc", 3) = 3 <0.000020>',
      '100 10:00:00.000300 this is not a call',
      '100 10:00:00.000400 write(1</tmp/y>, "x", 1) = 1 <0.000015>',
      '100 10:00:00.000500 exit_group(0) = ?',
      '100 10:00:00.000600 +++ exited with 0 +++',
    ].join('\n');

    it('a malformed line is exit 2 naming file:line, with no output; --lenient skips it', async () => {
      const file = join(dir, 'bad.strace');
      writeFileSync(file, BAD + '\n');
      const out = join(dir, 'out');
      const r = cli(['trace', file, '--out', out, '--cores', '2']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include(`${file}:3:`);
      expect(existsSync(out) ? readdirSync(out) : []).to.deep.equal([]);
      const printed: string[] = [];
      await traceCommand([file], { ...OPTIONS, out, cores: 2, lenient: true }, (x) => printed.push(x));
      expect(printed.join('')).to.match(/skipped 1 malformed line/);
      const rows = readCsv(join(out, 'syscalls.csv'));
      expect(rows.map((x) => [x.syscall, x.count])).to.have.deep.members([
        ['getpid', '1'],
        ['read', '1'],
        ['write', '1'],
        ['exit_group', '1'],
      ]);
    });

    /** The error a promise rejects with. */
    async function rejection(p: Promise<unknown>): Promise<Error> {
      try {
        await p;
      } catch (err) {
        return err as Error;
      }
      throw new Error('expected a rejection');
    }

    it('conflicting options, an empty trace and a missing file are input errors without output', async () => {
      const file = join(dir, 'ok.strace');
      writeFileSync(file, BAD.split('\n').slice(0, 2).join('\n') + '\n');
      const out = join(dir, 'out');
      const conflict = await rejection(traceCommand([file], { ...OPTIONS, out, trust: 'durations', slowdown: 5 }, () => {}));
      expect(conflict).to.be.instanceOf(InputError);
      expect(conflict.message).to.match(/--slowdown and --instructions-per-syscall apply to --trust mix only/);
      const empty = join(dir, 'empty.strace');
      writeFileSync(empty, '100 10:00:00.000100 +++ exited with 0 +++\n');
      const none = await rejection(traceCommand([empty], { ...OPTIONS, out }, () => {}));
      expect(none).to.be.instanceOf(InputError);
      expect(none.message).to.match(/no system calls in the trace/);
      const missing = await rejection(traceCommand([join(dir, 'missing.strace')], { ...OPTIONS, out }, () => {}));
      expect(missing).to.be.instanceOf(FileInputError);
      expect(missing.message).to.include('missing.strace');
      expect(existsSync(out)).to.equal(false);
    });
  });
});
