/**
 * From one recorded strace call to what the OS model runs for it (the trace replay,
 * `replay.ts`): which kernel path of the syscall catalog (`src/model/syscalls.ts`) it
 * takes, and whether it slept.
 *
 * ## Kernel path
 *
 * 1. Names of one call family are first folded onto the name the server scripts use
 *    (`readv` → `read`, `preadv` → `pread64`, `recv` → `recvfrom`, `statx` → `newfstatat`, …:
 *    `FOLD`), then `catalogKind` (src/workloads/server/script.ts) maps (name, fd kind from
 *    the `-yy` decoration) onto the catalog exactly as the server workloads do: calls on
 *    TCP/UDP sockets take the network paths, calls on files the paths Table 1 calibrated.
 * 2. A kind the catalog lacks is looked up among paths of the same family (`NEAREST`:
 *    `accept` → `accept4`, `epoll_pwait` → `epoll_wait`, `ppoll`/`select` → `poll`, `fsync` →
 *    `fdatasync`, `getpid` and other id reads → `getppid`, `access` → `stat`, …).
 * 3. Anything else is an *unknown call*. It runs a generic path: a copy of a template's
 *    shape (instructions, base CPI, code, objects, data, buffers) at its own addresses, one
 *    per (name, template), so two unknown calls never share code lines. The template is
 *    chosen by what the call operates on (its first argument):
 *    - a socket (`TCP`, `UDP`, `UNIX`, `socket`, `netlink` fd) → `setsockopt` (a short
 *      network-stack operation that moves no data);
 *    - any other fd (file, pipe, eventfd, device, …) → `fcntl` (an fd-table lookup and a
 *      small update);
 *    - a path string → `stat` (a path lookup, Table 1);
 *    - nothing of these (process, memory, signal, time and id calls: `clone`, `execve`,
 *      `rt_sigprocmask`, `getrandom`, …) → `mprotect` (an estimate of 2,000 instructions
 *      over task and VM structures).
 *    The shape is not scaled: the trace holds no evidence of a call's kernel work (strace's
 *    `-T` times are dominated by the tracer). Process-lifecycle calls (`clone`, `fork`,
 *    `execve`, `exit_group`) are far heavier than this in reality; they are rare in
 *    server traces, and `syscalls.csv` names each call's path so a reader can see them.
 *
 * ## Sleeping
 *
 * A call *slept* when it is one that can block, was not a probe that found nothing, and
 * its `-T` duration reached the threshold (`--wait-threshold-us`, default the server
 * extraction's `BLOCKED_THRESHOLD_US`, 100 µs: under strace a call that never sleeps
 * already takes 10–100 µs on the recording machine) — or it was still in progress when the
 * trace ended. Calls that can block: `accept`/`accept4`; reads and receives (not with
 * `MSG_DONTWAIT`); the poll family with a non-zero timeout; `futex` wait and lock-PI
 * operations; `fsync`/`fdatasync`/`sync_file_range`; `wait4`/`waitid`, `vfork`,
 * `rt_sigtimedwait`/`rt_sigsuspend`/`pause`; `io_getevents`; `connect`; `flock`, `semop`,
 * `msgrcv`; `restart_syscall` (it resumes a sleep). `nanosleep` and `clock_nanosleep`
 * always sleep. An `EAGAIN`/`EWOULDBLOCK` result is a probe: it did not sleep.
 */
import { SYSCALLS, withShape, type SyscallSpec } from '../../model/syscalls.js';
import { catalogKind } from '../server/script.js';
import { argsOf, fdKindOfArg, splitArgs } from '../server/strace-args.js';
import type { SyscallEvent } from './strace.js';

/** Names folded onto the family member the server scripts (and `catalogKind`) know. */
const FOLD: Readonly<Record<string, string>> = {
  readv: 'read',
  recv: 'recvfrom',
  preadv: 'pread64',
  preadv2: 'pread64',
  pwritev: 'pwrite64',
  pwritev2: 'pwrite64',
  send: 'sendto',
  fcntl64: 'fcntl',
  fstatat64: 'newfstatat',
  statx: 'newfstatat',
  lstat: 'newfstatat',
  creat: 'openat',
  openat2: 'openat',
};

/** Kinds the catalog lacks, mapped to a path of the same family that it has. */
const NEAREST: Readonly<Record<string, string>> = {
  accept: 'accept4',
  epoll_pwait: 'epoll_wait',
  epoll_pwait2: 'epoll_wait',
  ppoll: 'poll',
  select: 'poll',
  pselect6: 'poll',
  fsync: 'fdatasync',
  sync_file_range: 'fdatasync',
  syncfs: 'fdatasync',
  getsockopt: 'setsockopt',
  getpid: 'getppid',
  gettid: 'getppid',
  getuid: 'getppid',
  geteuid: 'getppid',
  getgid: 'getppid',
  getegid: 'getppid',
  getpgrp: 'getppid',
  access: 'stat',
  faccessat: 'stat',
  faccessat2: 'stat',
  readlink: 'stat',
  readlinkat: 'stat',
  mmap2: 'mmap',
  madvise: 'mprotect',
};

const SOCKET_FDS = new Set(['TCP', 'TCP listen', 'UDP', 'UNIX', 'socket', 'netlink']);

/** The template of an unknown call (see the module comment). */
export function genericTemplate(fd: string, firstArg: string | undefined): string {
  if (SOCKET_FDS.has(fd)) return 'setsockopt';
  if (fd !== 'none' && fd !== 'cwd') return 'fcntl';
  if (fd === 'cwd' || (firstArg !== undefined && firstArg.trimStart().startsWith('"'))) return 'stat';
  return 'mprotect';
}

/** Catalog name of an unknown call's generic path. */
export function genericKind(name: string, template: string): string {
  return `${name}~${template}`;
}

/** The fd kind a call operates on (from its `-yy` decoration; `none` without one). */
export function fdOfCall(name: string, argv: readonly string[], retText: string): string {
  if (name === 'open' || name === 'openat' || name === 'openat2' || name === 'creat') return fdKindOfArg(retText);
  if (name === 'mmap' || name === 'mmap2') return fdKindOfArg(argv[4]);
  if (name === 'poll' || name === 'ppoll') {
    const m = /fd=(-?\d+<[\s\S]*?>)(?=,\s*events)/.exec(argv[0] ?? '');
    return m ? fdKindOfArg(m[1]) : 'none';
  }
  return fdKindOfArg(argv[0]);
}

export interface CallPath {
  /** Catalog name of the kernel path the call runs. */
  kind: string;
  /** Set for an unknown call: the template whose shape its generic path copies. */
  template?: string;
}

/** The kernel path of a call (see the module comment), given the catalog it must exist in. */
export function kernelPathOf(name: string, fd: string, firstArg: string | undefined, catalog: Readonly<Record<string, SyscallSpec>> = SYSCALLS): CallPath {
  const folded = FOLD[name] ?? name;
  const kind = catalogKind({ name: folded, fd });
  if (catalog[kind] !== undefined) return { kind };
  const near = NEAREST[kind];
  if (near !== undefined && catalog[near] !== undefined) return { kind: near };
  const template = genericTemplate(fd, firstArg);
  return { kind: genericKind(name, template), template };
}

/** The generic path of an unknown call: the template's shape under its own name (and addresses). */
export function genericSpec(kind: string, template: string, catalog: Readonly<Record<string, SyscallSpec>> = SYSCALLS): SyscallSpec {
  const t = catalog[template];
  if (t === undefined) throw new Error(`generic syscall template '${template}' is not in the catalog`);
  const { name: _n, footprint: _f, ...shape } = t;
  void _n;
  void _f;
  return withShape(kind, { ...shape, source: `unknown to the catalog: a copy of ${template}'s shape (src/workloads/trace/replay-calls.ts)` });
}

// ---------------------------------------------------------------------------- sleeping

const READS = new Set(['read', 'readv', 'pread64', 'preadv', 'preadv2', 'recv', 'recvfrom', 'recvmsg', 'recvmmsg']);
const POLLS = new Set(['poll', 'ppoll', 'select', 'pselect6', 'epoll_wait', 'epoll_pwait', 'epoll_pwait2']);
const SLEEPS = new Set(['nanosleep', 'clock_nanosleep']);
const OTHER_WAITS = new Set([
  'accept', 'accept4', 'fsync', 'fdatasync', 'sync_file_range', 'syncfs', 'wait4', 'waitid', 'vfork',
  'rt_sigtimedwait', 'rt_sigsuspend', 'pause', 'io_getevents', 'connect', 'flock', 'semop', 'semtimedop',
  'msgrcv', 'restart_syscall', 'sigsuspend',
]);

/** Whether a call can block at all (before looking at its duration). */
export function canSleep(ev: Pick<SyscallEvent, 'name' | 'errno'>, argv: readonly string[]): boolean {
  const name = ev.name;
  if (ev.errno === 'EAGAIN' || ev.errno === 'EWOULDBLOCK') return false;
  if (name === 'futex') return /WAIT|LOCK_PI/.test(argv[1] ?? '');
  if (READS.has(name)) return !/MSG_DONTWAIT/.test(argv[3] ?? '');
  if (POLLS.has(name)) {
    const timeout = name.startsWith('epoll') ? argv[3] : name === 'poll' || name === 'ppoll' ? argv[2] : argv[4];
    return timeout !== '0' && timeout !== '{tv_sec=0, tv_nsec=0}';
  }
  return SLEEPS.has(name) || OTHER_WAITS.has(name);
}

/** Whether the recorded call slept (see the module comment). */
export function slept(ev: SyscallEvent, argv: readonly string[], thresholdUs: number): boolean {
  if (!canSleep(ev, argv)) return false;
  if (SLEEPS.has(ev.name) || ev.pending) return true;
  return ev.durationUs !== undefined && ev.durationUs >= thresholdUs;
}

/** The argument list of a call. */
export function argvOf(ev: SyscallEvent): string[] {
  return splitArgs(argsOf(ev));
}
