/**
 * The strace parser (src/workloads/trace/strace.ts): hand-written snippets for every
 * construct, then the traces recorded on real servers in test/fixtures/strace (see its
 * README.md for how they were made).
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { FileInputError } from '../src/errors.js';
import {
  StraceTally,
  parseStraceText,
  readStrace,
  summarizeStrace,
  summaryToJSON,
  tidFromFileName,
  type StraceEvent,
  type StraceOptions,
  type StraceSummary,
  type SyscallEvent,
} from '../src/workloads/trace/strace.js';
import { readLines } from '../src/workloads/trace/strace-input.js';

/** Compiled tests run from dist/test; fixtures stay in the source tree. */
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/strace/', import.meta.url));

function parse(text: string, options: StraceOptions & { file?: string } = {}): StraceEvent[] {
  return parseStraceText(text, options).events;
}

function calls(events: StraceEvent[]): SyscallEvent[] {
  return events.filter((e): e is SyscallEvent => e.type === 'syscall');
}

function only(text: string, options: StraceOptions & { file?: string } = {}): SyscallEvent {
  const cs = calls(parse(text, options));
  expect(cs).to.have.length(1);
  return cs[0]!;
}

/** Joins lines with newlines (snippets read better as arrays). */
function lines(...ls: string[]): string {
  return ls.join('\n') + '\n';
}

function expectInputError(fn: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a FileInputError').to.be.instanceOf(FileInputError);
  expect((err as Error).message).to.match(re);
}

async function collect(files: string | string[], options: StraceOptions = {}) {
  const reader = readStrace(files, options);
  const events: StraceEvent[] = [];
  for await (const ev of reader) events.push(ev);
  return { events, stats: reader.stats };
}

describe('strace parser: lines', () => {
  it('reads a complete -f -tt -T -yy line: tid column, time, args, result, duration', () => {
    const c = only(
      '8544  09:05:27.456929 openat(AT_FDCWD</tmp>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache> <0.000070>',
    );
    expect(c).to.deep.include({
      type: 'syscall',
      tid: 8544,
      name: 'openat',
      args: 'AT_FDCWD</tmp>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC',
      retText: '3</etc/ld.so.cache>',
      retval: 3,
      errno: undefined,
      durationUs: 70,
      pending: false,
      detached: false,
      line: 1,
      file: '<text>',
    });
    expect(c.timeUs).to.equal(((9 * 60 + 5) * 60 + 27) * 1e6 + 456929);
  });

  it('takes the tid from a padded [pid N] prefix, a tid column, options.tid or a -ff file name', () => {
    expect(only('[pid  1234] 10:00:00.000001 getpid() = 1234 <0.000002>').tid).to.equal(1234);
    expect(only('[pid 98765] getpid() = 98765').tid).to.equal(98765);
    expect(only('123456 getpid() = 123456').tid).to.equal(123456);
    expect(only('10:00:00.000001 getpid() = 7').tid).to.equal(0);
    expect(only('getpid() = 7', { tid: 7 }).tid).to.equal(7);
    expect(only('getpid() = 7', { file: 'trace.4242' }).tid).to.equal(4242);
    expect(tidFromFileName('/x/out.17.xz')).to.equal(17);
    expect(tidFromFileName('/x/out.17.gz')).to.equal(17);
    expect(tidFromFileName('/x/out.strace.xz')).to.equal(undefined);
    // a tid column wins over the file name
    expect(only('99  getpid() = 99', { file: 'trace.4242' }).tid).to.equal(99);
  });

  it('reads -t, -tt, -ttt, nanosecond and absent timestamps', () => {
    expect(only('1 09:00:01 getpid() = 1').timeUs).to.equal(32401e6);
    expect(only('1 09:00:01.5 getpid() = 1').timeUs).to.equal(32401.5e6);
    expect(only('1 1700000000.123456 getpid() = 1').timeUs).to.equal(1700000000123456);
    expect(only('1700000000.123456 getpid() = 1').timeUs).to.equal(1700000000123456);
    expect(only('1700000000.123456 getpid() = 1').tid).to.equal(0);
    expect(only('1 1700000000.123456789 getpid() = 1').timeUs).to.be.closeTo(1700000000123456.789, 0.5);
    expect(only('1 00:00:00.000000123 getpid() = 1').timeUs).to.be.closeTo(0.123, 1e-9);
    expect(only('1 getpid() = 1').timeUs).to.equal(undefined);
    expect(only('1 getpid() = 1 <1.5>').durationUs).to.equal(1.5e6);
    expect(only('1 getpid() = 1 <0.000000500>').durationUs).to.be.closeTo(0.5, 1e-12);
  });

  it('counts days when a time of day goes backwards past midnight', () => {
    const cs = calls(parse(lines('1 23:59:59.999000 getpid() = 1', '1 00:00:00.001000 getpid() = 1', '1 00:00:00.000900 getpid() = 1')));
    expect(cs.map((c) => c.timeUs)).to.deep.equal([86399999000, 86400001000, 86400000900]);
  });

  it('reads results: errno, ERESTART*, hex, octal, decorations, annotations, <unavailable>', () => {
    const enoent = only('1 access("/etc/ld.so.preload", R_OK) = -1 ENOENT (No such file or directory) <0.000057>');
    expect(enoent).to.deep.include({ retval: -1, errno: 'ENOENT', retText: '-1 ENOENT (No such file or directory)', durationUs: 57 });
    const restart = only('1 read(0</dev/null>, 0x7ffd, 64) = ? ERESTARTSYS (To be restarted if SA_RESTART is set) <0.030408>');
    expect(restart).to.deep.include({ retval: undefined, errno: 'ERESTARTSYS', pending: false });
    expect(only('1 mmap(NULL, 8192, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f7c22243000').retval).to.equal(0x7f7c22243000);
    expect(only('1 umask(022)        = 022 <0.000040>').retval).to.equal(0o22);
    expect(only('1 umask(0)        = 0').retval).to.equal(0);
    const fl = only('1 fcntl(3</dev/null<char 1:3>>, F_GETFL) = 0x8001 (flags O_WRONLY|O_LARGEFILE) <0.000041>');
    expect(fl).to.deep.include({ retval: 0x8001, retText: '0x8001 (flags O_WRONLY|O_LARGEFILE)', errno: undefined });
    expect(only('1 pselect6(0, NULL, NULL, NULL, {tv_sec=0, tv_nsec=718931286}, NULL) = 0 (Timeout) <0.719800>').retText).to.equal(
      '0 (Timeout)',
    );
    const inj = only('1 open("/x", O_RDONLY) = -1 ENOSYS (Function not implemented) (INJECTED)');
    expect(inj).to.deep.include({ errno: 'ENOSYS', retText: '-1 ENOSYS (Function not implemented) (INJECTED)' });
    expect(only('1 exit_group(0)                           = ?')).to.deep.include({ retval: undefined, retText: '?', pending: false });
    expect(only('1 read(3, 0x1, 2) = ? <unavailable>')).to.deep.include({ retval: undefined, retText: '? <unavailable>' });
    expect(only('1 poll([{fd=5, events=POLLIN}], 1, -1) = 1 ([{fd=5, revents=POLLIN}]) <0.1>').retText).to.equal(
      '1 ([{fd=5, revents=POLLIN}])',
    );
    expect(only('1 getpid() = 1234<bash>').retText).to.equal('1234<bash>');
  });

  it('keeps the arguments when the result has parenthesised annotations (found by the property tests)', () => {
    // the annotation was scanned with the same scanner state, which moved the end of the arguments
    expect(only('1 fcntl(3, F_GETFL) = 0x8001 (flags O_WRONLY|O_LARGEFILE) <0.000041>').args).to.equal('3, F_GETFL');
    expect(only('1 open("/x", O_RDONLY) = -1 ENOENT (No such file or directory)').args).to.equal('"/x", O_RDONLY');
    const poll = only('1 poll([{fd=5, events=POLLIN}], 1, -1) = 1 ([{fd=5, revents=POLLIN}]) <0.1>');
    expect(poll).to.deep.include({ args: '[{fd=5, events=POLLIN}], 1, -1', retText: '1 ([{fd=5, revents=POLLIN}])' });
    const t = lines('7 select(4, [3], NULL, NULL, NULL <unfinished ...>', '8 getpid() = 8', '7 <... select resumed>) = 1 (in [3])');
    expect(calls(parse(t))[1]).to.deep.include({ name: 'select', args: '4, [3], NULL, NULL, NULL', retText: '1 (in [3])' });
  });

  it('keeps strings with ", >, <... , = and ) inside them whole', () => {
    const c = only(
      '11327 09:10:55.477705 write(3</dev/null<char 1:3>>, "say \\"hi\\" > x; <... read resumed> = 0) <unfinished ...>\\n", 55) = 55 <0.000041>',
    );
    expect(c.args).to.equal('3</dev/null<char 1:3>>, "say \\"hi\\" > x; <... read resumed> = 0) <unfinished ...>\\n", 55');
    expect(c).to.deep.include({ retval: 55, pending: false, durationUs: 41 });
    // a string ending in an escaped backslash, and one holding only an escaped quote
    const b = only('1 write(1, "C:\\\\", 3) = 3');
    expect(b.args).to.equal('1, "C:\\\\", 3');
    expect(only('1 write(1, "\\"", 1) = 1').args).to.equal('1, "\\"", 1');
    expect(only('1 write(1, "a\\0b)\\"c", 6) = 6').args).to.equal('1, "a\\0b)\\"c", 6');
  });

  it('keeps strings truncated by -s ("..."...) and their escapes', () => {
    const c = only('1 read(3</usr/lib/x86_64-linux-gnu/libc.so.6>, "\\177ELF\\2\\1\\1\\3\\0\\0"..., 832) = 832 <0.000079>');
    expect(c.args).to.equal('3</usr/lib/x86_64-linux-gnu/libc.so.6>, "\\177ELF\\2\\1\\1\\3\\0\\0"..., 832');
    const v = only('1 writev(13<TCP:[127.0.0.1:8080->127.0.0.1:45378]>, [{iov_base="HTTP/1.1 200 OK\\r\\nDate: Tue"..., iov_len=251}], 1) = 251');
    expect(v.retval).to.equal(251);
  });

  it('skips -yy decorations with ->, [], nested <>, quoted and escaped paths', () => {
    const a = only(
      '9954  09:09:10.979916 accept4(3<TCP:[127.0.0.1:8080]>, {sa_family=AF_INET, sin_port=htons(37888), sin_addr=inet_addr("127.0.0.1")}, [128 => 16], SOCK_CLOEXEC) = 11<TCP:[127.0.0.1:8080->127.0.0.1:37888]> <0.000053>',
    );
    expect(a).to.deep.include({ name: 'accept4', retval: 11, retText: '11<TCP:[127.0.0.1:8080->127.0.0.1:37888]>', durationUs: 53 });
    expect(only('1 close(5<socket:[1234]>) = 0').args).to.equal('5<socket:[1234]>');
    expect(only('1 read(4<TCPv6:[[::1]:80->[::1]:5000]>, "x", 1) = 1').retval).to.equal(1);
    expect(only('1 write(4<UNIX-STREAM:[25370->25371,"/run/a>b).sock"]>, "ping", 4) = 4').retval).to.equal(4);
    // a path holding > ) " < [ : strace escapes < and > in decorations, not ) or [
    const odd = only(
      '1 openat(AT_FDCWD</tmp/e>, "odd>name)\\"q<[x.txt", O_RDWR|O_CREAT|O_TRUNC, 0644) = 4</tmp/e/odd\\76name)\\"q\\74[x.txt> <0.000114>',
    );
    expect(odd.retText).to.equal('4</tmp/e/odd\\76name)\\"q\\74[x.txt>');
    const rd = only('1 read(4</tmp/e/odd\\76name)\\"q\\74[x.txt>, "x", 1) = 1 <0.000046>');
    expect(rd.args).to.equal('4</tmp/e/odd\\76name)\\"q\\74[x.txt>, "x", 1');
    // a path ending in '-' followed by the closing '>'
    expect(only('1 close(3</tmp/x->) = 0').args).to.equal('3</tmp/x->');
    expect(only('1 dup2(4<pipe:[20553]>, 1</dev/null<char 1:3>>) = 1<pipe:[20553]> <0.000054>').retText).to.equal('1<pipe:[20553]>');
    expect(only('1 epoll_wait(7<anon_inode:[eventpoll]>, [], 11, 0) = 0').retval).to.equal(0);
    expect(only('1 clone3({flags=CLONE_VM, child_tid=0x1, exit_signal=0} => {parent_tid=[1235]}, 88) = 1235').child).to.equal(1235);
    expect(only('1 execve("/bin/sh", ["sh"], 0x7ffd /* 35 vars */) = 0').args).to.equal('"/bin/sh", ["sh"], 0x7ffd /* 35 vars */');
    expect(only('1 prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0').retval).to.equal(0);
  });

  it('rejects decorations nested thousands deep without overflowing the stack (found by the property tests)', () => {
    // skipDecoration recursed once per nested '<': a RangeError, even in lenient mode
    for (const piece of ['<a', '</a']) {
      const line = `1 read(3${piece.repeat(100000)}, "x", 1) = 1`;
      expectInputError(() => parse(line), /<text>:1: a <\.\.\.> nested more than 64 deep at column 9 in the arguments of read/);
      expect(parseStraceText(line, { lenient: true }).stats.malformed).to.equal(1);
    }
    expectInputError(() => parse(`1 open("/x", 0) = 3${'<b'.repeat(100000)}`), /nested more than 64 deep after the result/);
    expectInputError(() => parse('1 read(3<a<a, "x", 1) = 1'), /an unterminated <\.\.\.> at column 9/);
    // deep but within the limit, and closed: one decoration
    const deep = `3${'</a'.repeat(60)}${'>'.repeat(60)}`;
    expect(only(`1 close(${deep}) = 0`).args).to.equal(deep);
  });

  it('rejects numbers strace cannot print instead of reporting Infinity (found by the property tests)', () => {
    const nines = '9'.repeat(400);
    const bad: [string, RegExp][] = [
      [`${nines} getpid() = 1`, /expected \[tid\] \[timestamp\]/],
      [`[pid ${nines}] getpid() = 1`, /expected \[tid\] \[timestamp\]/],
      ['2147483648 getpid() = 1', /expected \[tid\] \[timestamp\]/],
      [`1 ${nines}.5 getpid() = 1`, /expected \[tid\] \[timestamp\]/],
      [`1 ${nines}:00:00 getpid() = 1`, /expected \[tid\] \[timestamp\]/],
      [`1 getpid() = ${nines}`, /expected a 64-bit number as the result, got '9{30}…' \(getpid\)/],
      [`1 getpid() = 0x${'f'.repeat(17)}`, /expected a 64-bit number/],
      [`1 umask(0) = 0${'7'.repeat(400)}`, /expected a 64-bit number/],
      [`1 getpid() = 1 <${nines}.0>`, /a <duration> beyond 2\^53 µs \(getpid\)/],
      [`1 +++ exited with ${nines} +++`, /expected 'exited with N'/],
      [`1 +++ superseded by execve in pid ${nines} +++`, /expected 'exited with N'/],
    ];
    for (const [line, re] of bad) {
      expectInputError(() => parse(line), re);
      expect(parseStraceText(line, { lenient: true }).stats.malformed, line.slice(0, 40)).to.equal(1);
    }
    // the largest of each still parses
    expect(only('2147483647 getpid() = 18446744073709551615').tid).to.equal(2 ** 31 - 1);
    expect(only('1 getpid() = 0xffffffffffffffff').retval).to.equal(2 ** 64);
    expect(only('1 9007199254.740991 getpid() = 1').timeUs).to.equal(Number.MAX_SAFE_INTEGER);
    expect(only('1 clone(child_stack=NULL, flags=SIGCHLD) = 4294967296').child).to.equal(undefined);
  });

  it('handles lines of many kilobytes', () => {
    const payload = 'ab\\"cd)>= <... x'.repeat(20000); // 320 KB of escaped text
    const c = only(`1 10:00:00.000000 write(1<pipe:[1]>, "${payload}"..., 400000) = 400000 <0.001>`);
    expect(c.args.length).to.equal(payload.length + 26);
    expect(c).to.deep.include({ retval: 400000, durationUs: 1000 });
  });
});

describe('strace parser: calls in halves, signals and exits', () => {
  it('merges <unfinished ...> and <... resumed> across three interleaved threads', () => {
    const t = lines(
      '11 10:00:00.000010 read(4<pipe:[1]>,  <unfinished ...>',
      '12 10:00:00.000020 futex(0x7f6883, FUTEX_WAIT_PRIVATE, 2, NULL <unfinished ...>',
      '13 10:00:00.000030 write(5<pipe:[1]>, "a) = 1 <... read resumed>", 24 <unfinished ...>',
      '11 10:00:00.000040 <... read resumed>"a) = 1 <... read resumed>", 64) = 24 <0.000030>',
      '13 10:00:00.000050 <... write resumed>) = 24 <0.000020>',
      '11 10:00:00.000060 getpid() = 11 <0.000001>',
      '12 10:00:00.000070 <... futex resumed>) = 0 <0.000050>',
    );
    const cs = calls(parse(t));
    expect(cs.map((c) => [c.tid, c.name, c.args, c.retval, c.timeUs! % 1000, c.durationUs, c.line])).to.deep.equal([
      [11, 'read', '4<pipe:[1]>, "a) = 1 <... read resumed>", 64', 24, 10, 30, 1],
      [13, 'write', '5<pipe:[1]>, "a) = 1 <... read resumed>", 24', 24, 30, 20, 3],
      [11, 'getpid', '', 11, 60, 1, 6],
      [12, 'futex', '0x7f6883, FUTEX_WAIT_PRIVATE, 2, NULL', 0, 20, 50, 2],
    ]);
    expect(cs.every((c) => !c.pending)).to.equal(true);
  });

  it('reports calls never resumed as pending at the end, and at their thread exit', () => {
    const t = lines(
      '1 10:00:00.000001 epoll_wait(7<anon_inode:[eventpoll]>,  <unfinished ...>',
      '2 10:00:00.000002 pause( <unfinished ...>',
      '3 10:00:00.000003 futex(0x1, FUTEX_WAIT, 0, NULL <unfinished ...>',
      '2 10:00:00.000004 +++ killed by SIGKILL +++',
      '3 10:00:00.000005 +++ exited with 0 +++',
    );
    const ev = parse(t);
    expect(ev.map((e) => (e.type === 'syscall' ? `${e.tid}:${e.name}:${e.pending}` : `${e.tid}:${e.type}`))).to.deep.equal([
      '2:pause:true',
      '2:kill',
      '3:futex:true',
      '3:exit',
      '1:epoll_wait:true',
    ]);
    const p = calls(ev)[2]!;
    expect(p).to.deep.include({ args: '7<anon_inode:[eventpoll]>, ', retText: '', retval: undefined, durationUs: undefined, detached: false });
  });

  it('reports <detached ...> calls as pending and detached, on a first or a resumed half', () => {
    const t = lines(
      '9950  09:09:11.740663 futex(0x7f688337b164, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, NULL, FUTEX_BITSET_MATCH_ANY <detached ...>',
      '9951  09:09:11.740700 read(3,  <unfinished ...>',
      '9951  09:09:11.740800 <... read resumed> <detached ...>',
    );
    const cs = calls(parse(t));
    expect(cs.map((c) => [c.tid, c.name, c.pending, c.detached])).to.deep.equal([
      [9950, 'futex', true, true],
      [9951, 'read', true, true],
    ]);
    expect(cs[0]!.args).to.equal('0x7f688337b164, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, NULL, FUTEX_BITSET_MATCH_ANY');
  });

  it('reads restart_syscall and names the call it resumes', () => {
    const c = only('11332 09:10:55.655355 restart_syscall(<... resuming interrupted clock_nanosleep ...>) = 0 <0.139354>');
    expect(c).to.deep.include({ name: 'restart_syscall', restarted: 'clock_nanosleep', retval: 0 });
    const t = lines(
      '5 10:00:00.000001 restart_syscall(<... resuming interrupted read ...> <unfinished ...>',
      '6 10:00:00.000002 getpid() = 6',
      '5 10:00:00.000003 <... restart_syscall resumed>) = 1',
    );
    expect(calls(parse(t))[1]).to.deep.include({ name: 'restart_syscall', restarted: 'read', retval: 1 });
  });

  it('reads signals (with /* comments */), stops, exits, kills and superseded threads', () => {
    const t = lines(
      '11715 09:11:13.150263 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=11718, si_uid=33, si_status=0, si_utime=1 /* 0.01 s */, si_stime=3 /* 0.03 s */} ---',
      '11332 09:10:55.634965 --- stopped by SIGSTOP ---',
      '11333 09:10:55.795624 +++ exited with 3 +++',
      '11334 09:10:55.816541 +++ killed by SIGKILL +++',
      '11335 09:10:55.816541 +++ killed by SIGSEGV (core dumped) +++',
      '11327 09:10:55.838760 +++ superseded by execve in pid 11336 +++',
    );
    const ev = parse(t);
    expect(ev[0]).to.deep.include({
      type: 'signal',
      tid: 11715,
      signal: 'SIGCHLD',
      stopped: false,
      info: '{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=11718, si_uid=33, si_status=0, si_utime=1 /* 0.01 s */, si_stime=3 /* 0.03 s */}',
    });
    expect(ev[1]).to.deep.include({ type: 'signal', signal: 'SIGSTOP', stopped: true, info: '' });
    expect(ev[2]).to.deep.include({ type: 'exit', tid: 11333, code: 3 });
    expect(ev[3]).to.deep.include({ type: 'kill', signal: 'SIGKILL', coreDumped: false });
    expect(ev[4]).to.deep.include({ type: 'kill', signal: 'SIGSEGV', coreDumped: true });
    expect(ev[5]).to.deep.include({ type: 'superseded', tid: 11327, by: 11336 });
  });

  it('pairs an execve by a non-leader thread with its resumption as the leader', () => {
    const t = lines(
      '11336 09:10:55.837430 execve("/bin/true", ["/bin/true"], 0x7f7c21051eb8 /* 0 vars */ <unfinished ...>',
      '11327 09:10:55.838360 <... read resumed> <unfinished ...>) = ?',
      '11327 09:10:55.838760 +++ superseded by execve in pid 11336 +++',
      '11327 09:10:55.838786 <... execve resumed>) = 0 <0.001302>',
      '11327 09:10:55.838815 brk(NULL)         = 0x5615872ee000 <0.000007>',
    );
    // the read started before the snippet: an orphan resumed half is an error ...
    expectInputError(() => parse(t), /<text>:2: <\.\.\. read resumed> without an unfinished read of tid 11327/);
    // ... and with its start the execve is paired across the tid change
    const ev = parse('11327 09:10:55.817118 read(13<pipe:[25375]>,  <unfinished ...>\n' + t);
    const cs = calls(ev);
    expect(cs.map((c) => [c.tid, c.name, c.retText, c.pending])).to.deep.equal([
      [11327, 'read', '?', false],
      [11336, 'execve', '0', false],
      [11327, 'brk', '0x5615872ee000', false],
    ]);
    expect(cs[0]!.args).to.equal('13<pipe:[25375]>, ');
    expect(cs[1]!.args).to.equal('"/bin/true", ["/bin/true"], 0x7f7c21051eb8 /* 0 vars */');
    expect(cs[1]!.durationUs).to.equal(1302);
  });

  it('gives the child tid of clone, clone3, fork and vfork from their return value', () => {
    const t = lines(
      '1 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f7c22055a10) = 11331 <0.000207>',
      '1 clone3({flags=CLONE_VM|CLONE_THREAD, child_tid=0x7f, parent_tid=0x7f, exit_signal=0, stack=0x7f, stack_size=0x7fff80, tls=0x7f} <unfinished ...>',
      '11332 rseq(0x7f7c22054fe0, 0x20, 0, 0x53053053) = 0',
      '1 <... clone3 resumed> => {parent_tid=[11332]}, 88) = 11332 <0.000146>',
      '1 vfork( <unfinished ...>',
      '11333 exit_group(0)     = ?',
      '1 <... vfork resumed>) = 11333 <0.000186>',
      '1 fork() = 11334',
      '1 clone(child_stack=NULL, flags=SIGCHLD) = -1 EAGAIN (Resource temporarily unavailable)',
      '1 getpid() = 1',
    );
    const cs = calls(parse(t));
    expect(cs.map((c) => c.child)).to.deep.equal([11331, undefined, 11332, undefined, 11333, 11334, undefined, undefined]);
    expect(cs[2]!.args).to.match(/tls=0x7f} => \{parent_tid=\[11332\]\}, 88$/);
  });

  it('joins a line that strace split with its own message (trace on stderr)', () => {
    const t = lines(
      '09:12:35.718014 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLDstrace: Process 13113 attached',
      ', child_tidptr=0x7f1efc916a10) = 13113 <0.000235>',
      '[pid 13113] 09:12:35.718326 set_robust_list(0x7f1efc916a20, 24) = 0 <0.000027>',
      '09:12:36.003451 vfork(strace: Process 13117 attached',
      ' <unfinished ...>',
      '[pid 13117] 09:12:36.003575 exit_group(0) = ?',
      '[pid 13109] 09:12:36.003668 <... vfork resumed>) = 13117 <0.000207>',
      'strace: Process 13200 attached with 6 threads',
    );
    const { events, stats } = parseStraceText(t);
    const cs = calls(events);
    expect(cs.map((c) => [c.tid, c.name, c.retval, c.line])).to.deep.equal([
      [0, 'clone', 13113, 1],
      [13113, 'set_robust_list', 0, 3],
      [13117, 'exit_group', undefined, 6],
      [13109, 'vfork', 13117, 4], // started unprefixed (tid unknown), resumed as [pid 13109]
    ]);
    expect(cs[0]!.args).to.equal('child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f1efc916a10');
    expect(stats.messages).to.equal(3);
  });

  it('reports a line left cut by an strace message at the end of the input', () => {
    expectInputError(
      () => parse('1 10:00:00.000001 getpid() = 1\n2 10:00:00.000002 vfork(strace: Process 3 attached\n'),
      /<text>:2: 1 unclosed bracket at the end of the line in the arguments of vfork/,
    );
  });

  it('skips blank lines and accepts CRLF line ends', () => {
    const cs = calls(parse('1 getpid() = 1\r\n\r\n   \n2 getpid() = 2\r\n'));
    expect(cs.map((c) => c.retval)).to.deep.equal([1, 2]);
  });
});

describe('strace parser: malformed input', () => {
  const bad: [string, RegExp][] = [
    ['1 10:00:00.000001 this is not strace', /expected '\(' after the call name 'this'/],
    ['1 10:00:00.000001 write(1, "unterminated, 3) = 3', /an unterminated string in the arguments of write/],
    ['1 10:00:00.000001 getpid()', /expected ' = ' and a result/],
    ['1 10:00:00.000001 getpid() = banana', /expected a return value/],
    ['1 10:00:00.000001 getpid() = 1 trailing', /unexpected 'trailing' after the result/],
    ['1 10:00:00.000001 getpid() = 1 <0.1> x', /malformed <duration>/],
    ['1 10:00:00.000001 read(3, [1, 2) = 1', /'\)'|unclosed/],
    ['1 10:00:00.000001 read(3, {a=1]) = 1', /']' closing '\{' at column 31 in the arguments of read/],
    ['1 10:00:00.000001 +++ exploded +++', /expected 'exited with N'/],
    ['1 10:00:00.000001 --- stuff ---', /expected a signal name/],
    ['1 10:00:00.000001 <... read resumed>) = 1', /without an unfinished read of tid 1/],
    ['1 10:00:0 getpid() = 1', /expected \[tid\] \[timestamp\]/],
    ['1 10:00:00.000001 ???', /expected a call/],
  ];
  for (const [line, re] of bad) {
    it(`rejects ${JSON.stringify(line.slice(18, 50))}, naming file and line`, () => {
      expectInputError(() => parse(`1 10:00:00.000000 getpid() = 1\n${line}\n`, { file: 'x.strace' }), /^x\.strace:2: /);
      expectInputError(() => parse(`1 10:00:00.000000 getpid() = 1\n${line}\n`, { file: 'x.strace' }), re);
    });
  }

  it('rejects a resumed half of another call and a new call over an unfinished one', () => {
    expectInputError(
      () => parse(lines('7 read(3,  <unfinished ...>', '7 <... write resumed>) = 1')),
      /<text>:2: <\.\.\. write resumed> but the unfinished call of tid 7 is read \(line 1\)/,
    );
    expectInputError(
      () => parse(lines('7 read(3,  <unfinished ...>', '7 getpid() = 7')),
      /<text>:2: tid 7 starts getpid while its read of line 1 is unfinished/,
    );
  });

  it('in lenient mode skips and counts malformed lines and keeps going', () => {
    const t = lines(
      '1 getpid() = 1',
      'garbage',
      '2 read(3,  <unfinished ...>',
      '2 write(1, "x", 1) = 1', // read is left pending
      '1 write(1, "unterminated) = 1',
      '3 <... futex resumed>) = 0',
      '2 getppid() = 1',
    );
    const { events, stats } = parseStraceText(t, { lenient: true, file: 'l.strace' });
    expect(stats.malformed).to.equal(4);
    expect(stats.malformedExamples.map((m) => m.line)).to.deep.equal([2, 4, 5, 6]);
    expect(stats.malformedExamples[0]!.detail).to.match(/^expected '\(' after the call name 'garbage'/);
    expect(calls(events).map((c) => `${c.name}${c.pending ? '*' : ''}`)).to.deep.equal(['getpid', 'read*', 'write', 'getppid']);
  });
});

describe('strace reader: files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'flexsc-strace-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const sample = lines(
    '100  10:00:00.000001 read(3</a>,  <unfinished ...>',
    '101  10:00:00.000002 write(1</dev/pts/0<char 136:0>>, "hi\\n", 3) = 3 <0.000010>',
    '100  10:00:00.000003 <... read resumed>"x", 1) = 1 <0.000002>',
    '101  10:00:00.000004 futex(0x1, FUTEX_WAIT, 0, NULL <unfinished ...>',
  );

  it('reads plain and gzip files alike and streams lines across small chunks', async () => {
    const plain = join(dir, 's.strace');
    const gz = join(dir, 's.strace.gz');
    writeFileSync(plain, sample);
    writeFileSync(gz, gzipSync(sample));
    const a = await collect(plain, { chunkSize: 7 });
    const b = await collect(gz);
    expect(a.events).to.have.length(3);
    expect(b.events.map((e) => ({ ...e, file: '' }))).to.deep.equal(a.events.map((e) => ({ ...e, file: '' })));
    expect(a.stats).to.deep.include({ files: 1, lines: 4, bytes: sample.length, malformed: 0 });
    expect(calls(a.events)[2]).to.deep.include({ name: 'futex', pending: true });
  });

  it('reads a multi-megabyte line split over many chunks', async () => {
    const payload = 'x\\"'.repeat(1 << 20);
    const f = join(dir, 'long.strace');
    writeFileSync(f, `1 write(1, "${payload}", 2097152) = 2097152\n1 getpid() = 1`);
    const { events } = await collect(f, { chunkSize: 1000 });
    expect(calls(events).map((c) => c.name)).to.deep.equal(['write', 'getpid']);
    expect(calls(events)[0]!.args.length).to.equal(payload.length + 14);
    let err: unknown;
    try {
      await collect(f, { maxLineChars: 1000 });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(FileInputError);
    expect((err as Error).message).to.equal(`${f}:1: expected a line of at most 1000 characters, got a longer one`);
  });

  it('names the file and line of a malformed line, also in a compressed file', async () => {
    const f = join(dir, 'bad.strace.gz');
    writeFileSync(f, gzipSync(sample + '101  10:00:00.000005 <... read resumed>) = 1\n'));
    let err: unknown;
    try {
      await collect(f);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(FileInputError);
    expect((err as Error).message).to.match(new RegExp(`^${f.replace(/[.]/g, '\\.')}:5: <\\.\\.\\. read resumed> but the unfinished call of tid 101 is futex`));
    const lenient = await collect(f, { lenient: true });
    expect(lenient.stats.malformed).to.equal(1);
  });

  it('rejects a missing file and a corrupt compressed file', async () => {
    for (const [f, re] of [
      [join(dir, 'missing.strace'), /missing\.strace: cannot read the trace/],
      [join(dir, 'corrupt.strace.gz'), /corrupt\.strace\.gz: expected gzip data/],
    ] as const) {
      if (f.endsWith('.gz')) writeFileSync(f, 'not gzip');
      let err: unknown;
      try {
        await collect(f);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(FileInputError);
      expect((err as Error).message).to.match(re);
    }
  });

  it('merges -ff files by timestamp, with tids from the file names', async () => {
    const a = join(dir, 'ff.500');
    const b = join(dir, 'ff.501.gz');
    writeFileSync(a, lines('10:00:00.000001 clone(child_stack=NULL, flags=SIGCHLD) = 501', '10:00:00.000004 wait4(-1, NULL, 0, NULL) = 501', '10:00:00.000005 +++ exited with 0 +++'));
    writeFileSync(b, gzipSync(lines('10:00:00.000002 getpid() = 501', '10:00:00.000003 exit_group(0) = ?', '10:00:00.000003 +++ exited with 7 +++')));
    const { events, stats } = await collect([a, b]);
    expect(events.map((e) => `${e.tid}:${e.type === 'syscall' ? e.name : e.type}`)).to.deep.equal([
      '500:clone',
      '501:getpid',
      '501:exit_group',
      '501:exit',
      '500:wait4',
      '500:exit',
    ]);
    expect(stats).to.deep.include({ files: 2, lines: 6 });
    expect(events.map((e) => e.file)).to.deep.equal([a, b, b, b, a, a]);
  });

  it('summarizes: counts per name sum to the total, pending and errors included', async () => {
    const f = join(dir, 'sum.strace');
    writeFileSync(
      f,
      lines(
        '1 10:00:00.000001 read(3,  <unfinished ...>',
        '2 10:00:00.000002 read(4, "", 1) = 0 <0.000010>',
        '2 10:00:00.000003 open("/x", O_RDONLY) = -1 ENOENT (No such file or directory) <0.000005>',
        '2 10:00:00.000004 --- SIGCHLD {si_signo=SIGCHLD} ---',
        '2 10:00:00.000005 --- stopped by SIGSTOP ---',
        '3 10:00:00.000006 futex(0x1, FUTEX_WAIT, 0, NULL <detached ...>',
        '2 10:00:00.000007 exit_group(0) = ?',
        '2 10:00:00.000008 +++ exited with 0 +++',
      ),
    );
    const s = await summarizeStrace(f);
    expect(s.calls).to.equal(5);
    expect(s.pending).to.equal(2);
    expect(s.errors).to.equal(1);
    expect(Object.fromEntries(s.syscalls)).to.deep.equal({
      read: { calls: 2, errors: 0, pending: 1, durationUs: 10, timed: 1 },
      open: { calls: 1, errors: 1, pending: 0, durationUs: 5, timed: 1 },
      futex: { calls: 1, errors: 0, pending: 1, durationUs: 0, timed: 0 },
      exit_group: { calls: 1, errors: 0, pending: 0, durationUs: 0, timed: 0 },
    });
    expect(Object.fromEntries(s.signals)).to.deep.equal({ SIGCHLD: 1 });
    expect(s).to.deep.include({ exits: 1, kills: 0, tids: 3, firstUs: 36000000001, lastUs: 36000000012 });
    expect(s.stats).to.deep.include({ lines: 8, malformed: 0 });
    const json = summaryToJSON(s);
    expect(Object.keys(json.syscalls as object)).to.deep.equal(['read', 'exit_group', 'futex', 'open']);
  });
});

// ---------------------------------------------------------------------------- fixtures

/** An independent count of the calls in -o output: lines that are neither resumed halves, signals nor exits. */
async function countCallLines(file: string): Promise<{ calls: number; lines: number }> {
  let n = 0;
  let total = 0;
  for await (const ls of readLines(file)) {
    for (const l of ls) {
      total++;
      const body = l.replace(/^\d+ +\d\d:\d\d:\d\d\.\d+ /, '');
      if (!/^(<\.\.\. |--- |\+\+\+ )/.test(body)) n++;
    }
  }
  return { calls: n, lines: total };
}

function loadNumber(file: string, re: RegExp): number {
  const m = re.exec(readFileSync(join(FIXTURES, file), 'utf8'));
  if (m === null) throw new Error(`${file}: ${re} not found`);
  return Number(m[1]);
}

function count(s: StraceSummary, name: string): number {
  return s.syscalls.get(name)?.calls ?? 0;
}

interface Fixture {
  file: string;
  /** Completed requests / transactions / queries reported by the load generator. */
  work: () => number;
  /** Singular and plural. */
  unit: [string, string];
  names: string[];
}

const SERVER_FIXTURES: Fixture[] = [
  {
    file: 'apache-ab.strace.xz',
    work: () => loadNumber('apache-ab.ab.txt', /Complete requests:\s+(\d+)/),
    unit: ['request', 'requests'],
    names: ['accept4', 'read', 'writev', 'sendfile', 'epoll_wait', 'futex', 'close', 'shutdown', 'newfstatat', 'openat'],
  },
  {
    file: 'apache-graceful.strace.xz',
    work: () => 400,
    unit: ['request', 'requests'],
    names: ['clone', 'clone3', 'execve', 'accept4', 'sendfile', 'wait4', 'kill', 'exit_group'],
  },
  {
    file: 'mariadb-oltp-ro.strace.xz',
    work: () => loadNumber('mariadb-oltp-ro.sysbench.txt', /transactions:\s+(\d+)/),
    unit: ['transaction', 'transactions'],
    names: ['recvfrom', 'sendto', 'poll', 'futex', 'restart_syscall'],
  },
  {
    file: 'mariadb-oltp-rw.strace.xz',
    work: () => loadNumber('mariadb-oltp-rw.sysbench.txt', /transactions:\s+(\d+)/),
    unit: ['transaction', 'transactions'],
    names: ['recvfrom', 'sendto', 'poll', 'futex', 'pwrite64', 'fdatasync'],
  },
  {
    file: 'bind-dnsperf.strace.xz',
    work: () => loadNumber('bind-dnsperf.dnsperf.txt', /Queries completed:\s+(\d+)/),
    unit: ['query', 'queries'],
    names: ['recvmmsg', 'sendmmsg', 'epoll_wait', 'epoll_ctl'],
  },
];

describe('strace fixtures (recorded servers)', function () {
  this.timeout(120000);
  const summaries = new Map<string, StraceSummary>();

  for (const fx of SERVER_FIXTURES) {
    it(`${fx.file}: parses fully and its counts add up`, async () => {
      const path = join(FIXTURES, fx.file);
      const s = await summarizeStrace(path);
      summaries.set(fx.file, s);
      expect(s.stats.malformed).to.equal(0);
      expect(s.stats.messages).to.equal(0);
      let sum = 0;
      let pending = 0;
      for (const t of s.syscalls.values()) {
        sum += t.calls;
        pending += t.pending;
        expect(t.pending).to.be.at.most(t.calls);
        expect(t.timed).to.be.at.most(t.calls - t.pending);
      }
      expect(sum).to.equal(s.calls);
      expect(pending).to.equal(s.pending);
      const independent = await countCallLines(path);
      expect(s.calls).to.equal(independent.calls);
      expect(s.stats.lines).to.equal(independent.lines);
      for (const n of fx.names) expect(count(s, n), n).to.be.greaterThan(0);
      const work = fx.work();
      console.log(
        `      ${fx.file}: ${s.calls} calls (${s.pending} pending, ${s.errors} with errno) in ${s.tids} threads, ` +
          `${((s.lastUs! - s.firstUs!) / 1e6).toFixed(2)} s; ${work} ${fx.unit[1]}, ${(s.calls / work).toFixed(1)} calls per ${fx.unit[0]}`,
      );
    });
  }

  it('apache-ab: one accept4 and one sendfile per request (KeepAlive off), strace detached at the end', async () => {
    const s = summaries.get('apache-ab.strace.xz') ?? (await summarizeStrace(join(FIXTURES, 'apache-ab.strace.xz')));
    const requests = loadNumber('apache-ab.ab.txt', /Complete requests:\s+(\d+)/);
    expect(requests).to.equal(1500);
    expect(count(s, 'accept4')).to.equal(requests);
    expect(count(s, 'sendfile')).to.equal(requests);
    expect(count(s, 'writev')).to.equal(requests);
    // the server's threads were blocked in calls when strace detached
    expect(s.pending).to.be.greaterThan(0);
    const { events } = await collect(join(FIXTURES, 'apache-ab.strace.xz'));
    const pend = calls(events).filter((c) => c.pending);
    expect(pend.length).to.equal(s.pending);
    // every thread has at most one call pending
    expect(new Set(pend.map((c) => c.tid)).size).to.equal(pend.length);
    // the -yy socket decorations of accepted connections
    const acc = calls(events).find((c) => c.name === 'accept4')!;
    expect(acc.retText).to.match(/^\d+<TCP:\[127\.0\.0\.1:8080->127\.0\.0\.1:\d+\]>$/);
  });

  it('mariadb: sysbench queries are matched by sendto replies; read-write adds pwrite64 + fdatasync', async () => {
    for (const [f, txt] of [
      ['mariadb-oltp-ro.strace.xz', 'mariadb-oltp-ro.sysbench.txt'],
      ['mariadb-oltp-rw.strace.xz', 'mariadb-oltp-rw.sysbench.txt'],
    ] as const) {
      const s = summaries.get(f) ?? (await summarizeStrace(join(FIXTURES, f)));
      const queries = loadNumber(txt, /queries:\s+(\d+)/);
      expect(count(s, 'sendto')).to.be.within(queries, queries * 1.05);
      expect(count(s, 'recvfrom')).to.be.greaterThan(queries);
      expect(s.pending).to.be.greaterThan(0); // detached from a running server
    }
    const rw = summaries.get('mariadb-oltp-rw.strace.xz')!;
    const tx = loadNumber('mariadb-oltp-rw.sysbench.txt', /transactions:\s+(\d+)/);
    expect(count(rw, 'fdatasync')).to.be.within(tx * 0.5, tx * 2);
    // read-only transactions leave only the background threads' few flushes
    expect(count(summaries.get('mariadb-oltp-ro.strace.xz')!, 'fdatasync')).to.be.lessThan(tx / 10);
  });

  it('bind: each query is received and answered with recvmmsg / sendmmsg', async () => {
    const s = summaries.get('bind-dnsperf.strace.xz') ?? (await summarizeStrace(join(FIXTURES, 'bind-dnsperf.strace.xz')));
    const q = loadNumber('bind-dnsperf.dnsperf.txt', /Queries completed:\s+(\d+)/);
    expect(count(s, 'sendmmsg')).to.be.within(q * 0.5, q);
    expect(count(s, 'recvmmsg')).to.be.greaterThan(q);
    // the empty polls of a non-blocking socket
    expect(s.syscalls.get('recvmmsg')!.errors).to.be.greaterThan(0);
  });

  it('apache-graceful: the children forked are the threads that exit; signals of a graceful restart', async () => {
    const { events } = await collect(join(FIXTURES, 'apache-graceful.strace.xz'));
    const children = new Set(calls(events).flatMap((c) => (c.child === undefined ? [] : [c.child])));
    const exited = new Set(events.filter((e) => e.type === 'exit').map((e) => e.tid));
    const seen = new Set(events.map((e) => e.tid));
    expect(children.size).to.be.greaterThan(5);
    for (const c of children) expect(seen.has(c), `child ${c}`).to.equal(true);
    for (const t of exited) expect(children.has(t) || t === events[0]!.tid, `exited ${t}`).to.equal(true);
    expect(exited.size).to.equal(seen.size); // everything exited: the server was stopped
    const sigs = new Set(events.flatMap((e) => (e.type === 'signal' ? [e.signal] : [])));
    for (const s of ['SIGUSR1', 'SIGTERM', 'SIGCHLD']) expect(sigs.has(s), s).to.equal(true);
    expect(calls(events).filter((c) => c.pending)).to.have.length(0);
  });
});

describe('strace fixtures (edge.c, four output formats)', function () {
  this.timeout(60000);
  const ffFiles = () =>
    readdirSync(join(FIXTURES, 'edge-ff'))
      .sort()
      .map((f) => join(FIXTURES, 'edge-ff', f));

  it('finds every construct edge.c provokes', async () => {
    const { events, stats } = await collect(join(FIXTURES, 'edge.strace.xz'));
    expect(stats.malformed).to.equal(0);
    const cs = calls(events);
    const find = (pred: (c: SyscallEvent) => boolean) => cs.filter(pred);
    // 1. tricky and long strings
    expect(find((c) => c.name === 'write' && c.args.includes('"say \\"hi\\" > x; <... read resumed> = 0) <unfinished ...>\\n", 55'))).to.have.length(1);
    const big = find((c) => c.name === 'write' && c.retval === 20000)[0]!;
    expect(big.args).to.match(/^3<\/dev\/null<char 1:3>>, "\\"bcdefg.*"\.\.\., 20000$/);
    expect(big.args.length).to.be.greaterThan(16384);
    // 2. the odd file name, escaped in decorations
    expect(find((c) => c.name === 'read' && c.args.includes('odd\\76name)\\"q\\74[x.txt>'))).to.have.length(1);
    // 3. errors, hex, octal, annotations
    expect(find((c) => c.errno === 'ENOENT' && c.args.includes('/nonexistent/file'))).to.have.length(1);
    expect(find((c) => c.name === 'close' && c.errno === 'EBADF')).to.have.length(1);
    expect(find((c) => c.name === 'umask').map((c) => c.retval)).to.deep.equal([0o22, 0o22]);
    expect(find((c) => c.name === 'fcntl')[0]!.retText).to.equal('0x8001 (flags O_WRONLY|O_LARGEFILE)');
    // 4. sockets
    expect(find((c) => c.name === 'accept')[0]!.retText).to.match(/^\d+<TCP:\[127\.0\.0\.1:\d+->127\.0\.0\.1:\d+\]>$/);
    expect(find((c) => c.name === 'socketpair')[0]!.args).to.match(/UNIX-STREAM:\[\d+->\d+\]>/);
    // 5. three readers woken in reverse order: each read resumed, entry before its exit
    const readers = find((c) => c.name === 'read' && c.args.endsWith('"wake", 64'));
    expect(readers).to.have.length(3);
    expect(new Set(readers.map((c) => c.tid)).size).to.equal(3);
    const clone3Children = find((c) => c.name === 'clone3').map((c) => c.child);
    for (const r of readers) expect(clone3Children).to.include(r.tid);
    // 6. the read interrupted by SIGUSR1 and restarted
    const interrupted = find((c) => c.errno === 'ERESTARTSYS');
    expect(interrupted).to.have.length(1);
    const usr1 = events.findIndex((e) => e.type === 'signal' && e.signal === 'SIGUSR1');
    expect(events.indexOf(interrupted[0]!)).to.be.lessThan(usr1);
    expect(find((c) => c.name === 'rt_sigreturn')).to.have.length(1);
    // 7. restart_syscall after a stop
    expect(find((c) => c.name === 'restart_syscall').map((c) => c.restarted)).to.deep.equal(['clock_nanosleep', 'clock_nanosleep']);
    expect(events.some((e) => e.type === 'signal' && e.stopped && e.signal === 'SIGSTOP')).to.equal(true);
    expect(find((c) => c.errno === 'ERESTART_RESTARTBLOCK').length).to.be.greaterThan(0);
    // 8. exit 3, SIGKILL, vfork
    expect(events.filter((e) => e.type === 'exit' && e.code === 3)).to.have.length(1);
    expect(events.filter((e) => e.type === 'kill').map((e) => (e.type === 'kill' ? e.signal : ''))).to.deep.equal(['SIGKILL']);
    expect(find((c) => c.name === 'vfork')[0]!.child).to.be.a('number');
    // 9. the execve of a thread, resumed by the leader
    const sup = events.filter((e) => e.type === 'superseded');
    expect(sup).to.have.length(1);
    const exec = find((c) => c.name === 'execve' && c.args.startsWith('"/bin/true"'));
    expect(exec).to.have.length(1);
    expect(exec[0]).to.deep.include({ retval: 0, pending: false });
    expect(exec[0]!.tid).to.equal(sup[0]!.type === 'superseded' ? sup[0]!.by : -1);
    expect(cs.filter((c) => c.pending)).to.have.length(0);
  });

  it('-tt/xz, -ttt/gzip, stderr [pid N]/plain and -ff/xz recordings give the same calls per name', async () => {
    const sets: [string, string[]][] = [
      ['-tt', [join(FIXTURES, 'edge.strace.xz')]],
      ['-ttt', [join(FIXTURES, 'edge.ttt.strace.gz')]],
      ['[pid N]', [join(FIXTURES, 'edge.pidprefix.strace')]],
      ['-ff', ffFiles()],
    ];
    const results: Record<string, Record<string, number>> = {};
    for (const [label, files] of sets) {
      const s = await summarizeStrace(files);
      expect(s.stats.malformed, label).to.equal(0);
      expect(s.pending, label).to.equal(0);
      expect(s).to.deep.include({ exits: 8, kills: 1, superseded: 1 });
      results[label] = Object.fromEntries([...s.syscalls].map(([k, v]) => [k, v.calls]));
    }
    expect(results['-ttt']).to.deep.equal(results['-tt']);
    expect(results['[pid N]']).to.deep.equal(results['-tt']);
    expect(results['-ff']).to.deep.equal(results['-tt']);
    expect(Object.values(results['-tt']!).reduce((a, b) => a + b, 0)).to.equal(191);
  });

  it('-ttt stamps are epoch microseconds; stderr messages are skipped and split lines joined', async () => {
    const ttt = await collect(join(FIXTURES, 'edge.ttt.strace.gz'));
    expect(ttt.events[0]!.timeUs).to.be.greaterThan(1.6e15);
    const pid = await collect(join(FIXTURES, 'edge.pidprefix.strace'));
    expect(pid.stats.messages).to.be.greaterThan(5);
    const clones = calls(pid.events).filter((c) => ['clone', 'clone3', 'vfork'].includes(c.name));
    expect(clones).to.have.length(9);
    for (const c of clones) {
      expect(c.child, c.args).to.be.a('number');
      expect(c.args).to.not.include('strace:');
    }
  });

  it('-ff: one file alone cannot pair the leader\'s execve; all together pair it across files', async () => {
    const files = ffFiles();
    // the leader is the file with the first execve (of ./edge)
    let leaderFile = '';
    for (const f of files) {
      const { events } = await collect(f, { lenient: true });
      if (calls(events).some((c) => c.name === 'execve' && c.args.startsWith('"./edge"'))) leaderFile = f;
    }
    let err: unknown;
    try {
      await collect(leaderFile);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.match(/<\.\.\. execve resumed> without an unfinished execve of tid \d+ \(the execve started in pid \d+, whose lines are not in the input: give all the -ff files together\)/);
    const all = await collect(files);
    const exec = calls(all.events).find((c) => c.name === 'execve' && c.args.startsWith('"/bin/true"'))!;
    expect(exec).to.deep.include({ pending: false, retval: 0 });
    expect(exec.tid).to.equal(tidFromFileName(exec.file));
    expect(exec.file).to.not.equal(leaderFile);
  });
});

describe('strace parser throughput (reported, not asserted)', function () {
  this.timeout(300000);
  it('parses the largest fixture', async () => {
    const files = SERVER_FIXTURES.map((f) => join(FIXTURES, f.file));
    let largest = files[0]!;
    let largestBytes = 0;
    for (const f of files) {
      const counters = { bytes: 0 };
      for await (const _ of readLines(f, {}, counters));
      if (counters.bytes > largestBytes) {
        largestBytes = counters.bytes;
        largest = f;
      }
    }
    // decompression and line splitting alone
    let t0 = performance.now();
    let nLines = 0;
    for await (const ls of readLines(largest)) nLines += ls.length;
    const readMs = performance.now() - t0;
    // full parse into events, best of 3
    let best = Infinity;
    let events = 0;
    for (let k = 0; k < 3; k++) {
      t0 = performance.now();
      const tally = new StraceTally();
      events = 0;
      for await (const batch of readStrace(largest).batches()) {
        events += batch.length;
        for (const ev of batch) tally.add(ev);
      }
      best = Math.min(best, performance.now() - t0);
    }
    const mb = largestBytes / 1e6;
    console.log(
      `      ${largest.split('/').pop()}: ${mb.toFixed(1)} MB, ${nLines} lines, ${events} events; ` +
        `xz + lines ${readMs.toFixed(0)} ms; parse + summary ${best.toFixed(0)} ms = ` +
        `${((nLines / best) * 1e3 / 1e6).toFixed(2)} M lines/s, ${((mb / best) * 1e3).toFixed(0)} MB/s`,
    );
    expect(events).to.be.greaterThan(0);
  });
});
