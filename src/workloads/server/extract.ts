/**
 * Extracts the per-request syscall scripts of the three servers from their recordings in
 * `test/fixtures/strace/` (see its README.md): the logic behind `scripts/extract-mixes.ts`
 * and `test/mixes.test.ts`. The trace is read with the project's streaming parser
 * (src/workloads/trace/strace.ts); its events are then kept per thread in memory (these
 * recordings hold at most 41 K calls).
 *
 * ## From a trace to a script
 *
 * 1. Every call gets a *step key*: syscall name, fd kind (from the -yy decoration), a
 *    variant (`detail`: futex op, epoll_ctl op and target, file name, query text, …) and
 *    its errno; and a wait classification (`classifyWait`).
 * 2. Each thread's calls are cut into *cycles*, one per request, around an *anchor* call
 *    that marks the request (a server-specific rule, `SERVERS`): apache's worker reads the
 *    HTTP request, its listener accepts the connection; a MariaDB connection thread reads
 *    the `BEGIN` of a sysbench transaction; named receives the query datagram(s). A cycle
 *    starts at the *lead-in* calls just before its anchor (the wait for the request:
 *    futex/fcntl, epoll_wait/epoll_ctl, poll and EAGAIN probes) and runs to the next
 *    cycle's start; the last cycle ends at the request's end (the connection's close, the
 *    COMMIT's reply, the answer). Calls before the first cycle and after the last are
 *    left out (`unattributed`).
 * 3. The cycles of a role (all its threads pooled) are aligned on a skeleton: keys that
 *    at least half the cycles make equally often (and at least once) are *typical*; the
 *    most common order of typical calls is the skeleton; each cycle is aligned to it
 *    (longest common subsequence) and every other call becomes an extra step at the
 *    place, after a skeleton step, where it occurred (places holding a call in fewer than
 *    `MIN_EXTRA_PER_REQUEST` of the requests are merged into its nearest other place). A
 *    step's perRequest is its calls over the requests of the role's cycles.
 * 4. Threads with no script role (housekeeping, MariaDB's acceptor) give *background*
 *    steps: their calls that start between the first cycle's start and the last cycle's
 *    end, grouped by key, per request served; their other calls are unattributed.
 *
 * Output is deterministic: keys sorted, numbers rounded to fixed precision.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectRoot } from '../../paths.js';
import { readStrace, type SyscallEvent } from '../trace/strace.js';
import {
  MixesSchema,
  type MatchRow,
  type Mixes,
  type ScriptRole,
  type ScriptStep,
  type ServerId,
  type ServerMix,
  type SyscallTotals,
  type ThreadRole,
  type ThreadView,
  type WaitKind,
} from './mixes.js';
import { argsOf, baseNameOfArg, decodeCString, decorationOf, fdKindOfArg, splitArgs, uintLE } from './strace-args.js';

/** A call that can block counts as blocked at this recorded duration or more (µs). */
export const BLOCKED_THRESHOLD_US = 100;

/** The script must match the recording per syscall within max(relative × recording, absolute) calls per request. */
export const TOLERANCE = {
  relative: 0.02,
  absolute: 0.05,
  description:
    'per syscall name and in total, |script − recording| ≤ max(2 % of the recording, 0.05) calls per request; ' +
    'the difference is the calls no request owns (connection set-up before the first request, the trace ends, ' +
    'housekeeping outside the requests) and the requests the load generator counted but the trace did not show whole',
};

/**
 * An extra step (a call at a place where most requests make none) that occurs in fewer
 * requests than this share is merged into the nearest place of the same call that is kept.
 */
const MIN_EXTRA_PER_REQUEST = 0.005;

// ---------------------------------------------------------------------------- calls

/** One call with what the extractor derives from it. */
export interface Call {
  ev: SyscallEvent;
  argv: string[];
  fd: string;
  detail: string;
  /** name|fd|detail|errno */
  key: string;
  bytes: number | undefined;
  waitFor: WaitKind | null;
  probe: boolean;
  blocked: boolean;
  /** User time before the call: entry − the previous call's exit on the thread, µs. */
  gapUs: number | undefined;
  /** Server-specific marks (`begin`, `commit`, `query`, `request`, …). */
  tag: string | undefined;
  /** Requests this call anchors (0 if none). */
  anchors: number;
}

const PATH_CALLS = new Set([
  'stat', 'lstat', 'newfstatat', 'fstatat64', 'statx', 'access', 'faccessat', 'faccessat2', 'readlink', 'readlinkat',
  'unlink', 'unlinkat', 'mkdir', 'mkdirat', 'rename', 'renameat', 'renameat2', 'chdir', 'getcwd',
]);
const OPEN_CALLS = new Set(['open', 'openat', 'openat2', 'creat']);
const BYTE_CALLS = new Set([
  'read', 'pread64', 'readv', 'preadv', 'preadv2', 'recv', 'recvfrom', 'recvmsg',
  'write', 'pwrite64', 'writev', 'pwritev', 'pwritev2', 'send', 'sendto', 'sendmsg', 'sendfile', 'splice',
]);
const MMSG_CALLS = new Set(['recvmmsg', 'sendmmsg']);
const READ_CALLS = new Set(['read', 'readv', 'recv', 'recvfrom', 'recvmsg', 'recvmmsg']);
const POLL_CALLS = new Set(['epoll_wait', 'epoll_pwait', 'epoll_pwait2', 'poll', 'ppoll', 'select', 'pselect6']);
const SLEEP_CALLS = new Set(['nanosleep', 'clock_nanosleep']);
const SYNC_CALLS = new Set(['fsync', 'fdatasync', 'sync_file_range', 'syncfs']);

/** The fd kind a call operates on. */
function fdOf(ev: SyscallEvent, argv: string[]): string {
  if (OPEN_CALLS.has(ev.name)) return ev.errno === undefined ? fdKindOfArg(ev.retText) : 'path';
  if (PATH_CALLS.has(ev.name)) return 'path';
  if (ev.name === 'poll' || ev.name === 'ppoll') {
    const m = /fd=(-?\d+<[\s\S]*?>)(?=,\s*events)/.exec(argv[0] ?? '');
    return m ? fdKindOfArg(m[1]) : 'none';
  }
  if (ev.name === 'mmap') return fdKindOfArg(argv[4]);
  return fdKindOfArg(argv[0]);
}

function normalizeFutexOp(op: string): string {
  return op
    .split('|')[0]!
    .replace(/_PRIVATE$/, '')
    .replace(/_BITSET$/, '');
}

/** The variant of a call that the server rules did not set. */
function genericDetail(ev: SyscallEvent, argv: string[], epollKinds: (c: SyscallEvent) => string[]): string {
  switch (ev.name) {
    case 'futex':
      return normalizeFutexOp(argv[1] ?? '');
    case 'epoll_ctl':
      return `${argv[1] ?? ''} ${fdKindOfArg(argv[2])}`;
    case 'epoll_wait':
    case 'epoll_pwait':
    case 'epoll_pwait2': {
      if (ev.pending) return 'pending';
      if (ev.retval === 0) return 'timeout';
      const kinds = [...new Set(epollKinds(ev))].sort();
      return `ready: ${kinds.join('+') || '?'}`;
    }
    case 'fcntl':
    case 'fcntl64':
      return argv[1] ?? '';
    case 'setsockopt':
    case 'getsockopt': {
      const v = /^\[(-?\d+)\]$/.exec(argv[3] ?? '');
      return `${argv[2] ?? ''}${v && ev.name === 'setsockopt' ? `=${v[1]}` : ''}`;
    }
    case 'shutdown':
      return argv[1] ?? '';
    case 'mmap':
      return /MAP_ANONYMOUS/.test(argv[3] ?? '') ? 'anonymous' : (baseNameOfArg(argv[4]) ?? '');
    case 'sendfile':
      return `from ${baseNameOfArg(argv[1]) ?? fdKindOfArg(argv[1])}`;
    default:
      break;
  }
  if (OPEN_CALLS.has(ev.name)) return baseNameOfArg(ev.retText) ?? baseOfPathString(argv[1]);
  if (PATH_CALLS.has(ev.name)) return baseOfPathString(ev.name === 'newfstatat' || ev.name.endsWith('at') ? argv[1] : argv[0]);
  const file = baseNameOfArg(argv[0]);
  if (file !== undefined && fdKindOfArg(argv[0]) === 'file') return file;
  if (READ_CALLS.has(ev.name) && ev.retval === 0 && ev.errno === undefined && !ev.pending) return 'EOF';
  return '';
}

function baseOfPathString(arg: string | undefined): string {
  const d = decodeCString(arg);
  if (d === undefined) return '';
  const path = String.fromCharCode(...d.bytes);
  const parts = path.split('/');
  return parts[parts.length - 1] || path;
}

function bytesOf(ev: SyscallEvent, argv: string[]): number | undefined {
  if (ev.errno !== undefined || ev.retval === undefined) return undefined;
  if (BYTE_CALLS.has(ev.name)) return ev.retval;
  if (MMSG_CALLS.has(ev.name)) {
    let sum = 0;
    for (const m of (argv[1] ?? '').matchAll(/msg_len=(\d+)/g)) sum += Number(m[1]);
    return sum;
  }
  return undefined;
}

/** What kind of wait reading from (or polling) an fd of this kind is. */
function waitForFd(kind: string): WaitKind | null {
  if (kind === 'TCP' || kind === 'UDP' || kind === 'UNIX' || kind === 'socket') return 'client';
  if (kind === 'TCP listen') return 'connection';
  if (kind === 'pipe' || kind === 'eventfd' || kind === 'signalfd') return 'thread';
  if (kind === 'timerfd') return 'timer';
  return null;
}

const NO_WAIT = { waitFor: null, probe: false, blocked: false } as const;

/**
 * Whether a call looks like a wait: what it waits for (null for kernel work: calls that
 * cannot block — a FUTEX_WAKE, a read of a non-blocking or just-reported-ready file),
 * whether it was an EAGAIN probe (could have waited, found nothing), and whether it
 * blocked: a FUTEX_WAIT that returned 0 or timed out, a sleep, or a poll/epoll_wait,
 * blocking read or accept, fdatasync or wait that took `BLOCKED_THRESHOLD_US` or more (or
 * was still in progress when strace detached). The threshold is a judgement: under strace
 * a call that never sleeps already takes 10–100 µs here, so shorter real waits are missed.
 */
export function classifyWait(
  ev: SyscallEvent,
  argv: string[],
  fd: string,
  epollKinds: (c: SyscallEvent) => string[],
  cannotBlock = false,
): { waitFor: WaitKind | null; probe: boolean; blocked: boolean } {
  const dur = ev.durationUs;
  const long = ev.pending || (dur !== undefined && dur >= BLOCKED_THRESHOLD_US);
  const eagain = ev.errno === 'EAGAIN' || ev.errno === 'EWOULDBLOCK';
  const name = ev.name;
  if (name === 'restart_syscall') {
    // the call a thread was sleeping in when strace attached
    return { waitFor: SLEEP_CALLS.has(ev.restarted ?? '') ? 'timer' : 'thread', probe: false, blocked: long };
  }
  if (name === 'futex') {
    const op = normalizeFutexOp(argv[1] ?? '');
    if (!/WAIT|LOCK_PI/.test(op)) return NO_WAIT;
    // a FUTEX_WAIT that returns 0 (or times out) slept; EAGAIN: the word changed first
    return { waitFor: ev.errno === 'ETIMEDOUT' ? 'timer' : 'thread', probe: eagain, blocked: !eagain && ev.errno !== 'EINTR' };
  }
  if (POLL_CALLS.has(name)) {
    const timeoutArg = name.startsWith('epoll') ? argv[3] : name === 'poll' || name === 'ppoll' ? argv[2] : argv[4];
    if (timeoutArg === '0' || timeoutArg === '{tv_sec=0, tv_nsec=0}') return NO_WAIT;
    let waitFor: WaitKind | null;
    if (ev.retval === 0 && !ev.pending) waitFor = 'timer';
    else if (name.startsWith('epoll')) {
      const kinds = epollKinds(ev);
      waitFor = kinds.length > 0 ? (waitForFd(kinds[0]!) ?? 'client') : 'client';
    } else if (name === 'select' || name === 'pselect6') waitFor = argv[0] === '0' ? 'timer' : 'client';
    else waitFor = waitForFd(fd) ?? 'client';
    return { waitFor, probe: false, blocked: long };
  }
  if (name === 'accept' || name === 'accept4' || READ_CALLS.has(name)) {
    const w = name.startsWith('accept') ? 'connection' : waitForFd(fd);
    if (w === null) return NO_WAIT;
    if (eagain) return { waitFor: w, probe: true, blocked: false };
    // a call that cannot block is kernel work, not a wait
    if (cannotBlock || /MSG_DONTWAIT/.test(argv[3] ?? '')) return NO_WAIT;
    return { waitFor: w, probe: false, blocked: long };
  }
  if (SLEEP_CALLS.has(name)) return { waitFor: 'timer', probe: false, blocked: true };
  if (SYNC_CALLS.has(name)) return { waitFor: 'disk', probe: false, blocked: long };
  if (name === 'io_getevents' || (name === 'io_uring_enter' && /GETEVENTS/.test(argv[3] ?? ''))) {
    return { waitFor: 'disk', probe: false, blocked: long };
  }
  if (name === 'wait4' || name === 'waitid' || name === 'rt_sigtimedwait' || name === 'rt_sigsuspend' || name === 'pause') {
    return { waitFor: 'thread', probe: eagain, blocked: !eagain && long };
  }
  return NO_WAIT;
}

function keyOf(c: Pick<Call, 'ev' | 'fd' | 'detail'>): string {
  return `${c.ev.name}|${c.fd}|${c.detail}|${c.ev.errno ?? ''}`;
}

// ---------------------------------------------------------------------------- servers

interface RoleRule {
  role: ScriptRole;
  /** In the per-request script (apache's listener is; MariaDB's, which accepts connections once, is not). */
  inScript: boolean;
  /** Requests a call anchors (0 if it anchors none). */
  anchor(c: Call): number;
  /** A call of the wait that leads into a request (walked back from the anchor). */
  leadIn(c: Call): boolean;
  /** The index of the last call of the request anchored at `a` (for the last cycle), or undefined if it did not finish. */
  endOf(calls: readonly Call[], a: number): number | undefined;
  /** Requests a cycle served (default: its anchors). */
  served?(calls: readonly Call[]): number;
}

interface ServerRule {
  id: ServerId;
  description: string;
  trace: string;
  loadGenerator: string;
  unit: 'request' | 'transaction' | 'query';
  load(text: string): { requests: number; line: string; queries: number | null };
  /** Sets server-specific details and tags on one thread's calls (in order). */
  annotate?(calls: Call[]): void;
  roles: RoleRule[];
}

function loadLine(text: string, re: RegExp, what: string): { value: number; line: string } {
  const m = re.exec(text);
  if (!m) throw new Error(`load generator output: no '${what}' line`);
  return { value: Number(m[1]), line: m[0].trim().replace(/\s+/g, ' ') };
}

/** The first bytes of a read's data look like an HTTP request line. */
function isHttpRequest(c: Call): boolean {
  if (!READ_CALLS.has(c.ev.name) || c.fd !== 'TCP' || !(c.ev.retval !== undefined && c.ev.retval > 0)) return false;
  const d = decodeCString(c.argv[1]);
  if (d === undefined) return false;
  return /^(GET|POST|HEAD|PUT|DELETE|OPTIONS|PATCH) /.test(String.fromCharCode(...d.bytes.slice(0, 8)));
}

/** Index after a run of calls starting at a + 1 that satisfy `more`, minus one (the run's last call), or a. */
function runEnd(calls: readonly Call[], a: number, more: (c: Call) => boolean): number {
  let e = a;
  while (e + 1 < calls.length && more(calls[e + 1]!)) e++;
  return e;
}

const APACHE: ServerRule = {
  id: 'apache',
  description:
    'Apache 2.4 (event MPM, 1 process × 4 worker threads + 1 listener thread, KeepAlive off, sendfile on) serving a 2,703-byte static page to ab -n 1500 -c 4',
  trace: 'apache-ab.strace.xz',
  loadGenerator: 'apache-ab.ab.txt',
  unit: 'request',
  load(text) {
    const r = loadLine(text, /Complete requests:\s+(\d+)/, 'Complete requests');
    return { requests: r.value, line: r.line, queries: null };
  },
  annotate(calls) {
    for (const c of calls) {
      if (isHttpRequest(c)) {
        c.tag = 'request';
        c.detail = 'HTTP request';
      }
    }
  },
  roles: [
    {
      role: 'worker',
      inScript: true,
      anchor: (c) => (c.tag === 'request' ? 1 : 0),
      // idle in the worker queue (futex), then make the connection non-blocking (fcntl)
      leadIn: (c) => c.ev.name === 'futex' || ((c.ev.name === 'fcntl' || c.ev.name === 'fcntl64') && c.fd === 'TCP'),
      // the connection's close, or its hand-off to the listener for a lingering close
      endOf: (calls, a) => {
        for (let i = a; i < calls.length; i++) {
          const c = calls[i]!;
          if (c.ev.name === 'close' && c.fd === 'TCP') return i;
          if (c.ev.name === 'epoll_ctl' && c.detail === 'EPOLL_CTL_ADD TCP') return i;
        }
        return undefined;
      },
    },
    {
      role: 'listener',
      inScript: true,
      anchor: (c) => ((c.ev.name === 'accept4' || c.ev.name === 'accept') && c.ev.errno === undefined && !c.ev.pending ? 1 : 0),
      // wait for a connection; re-enable the listening socket after a wake-up through the pipe
      leadIn: (c) =>
        c.ev.name.startsWith('epoll_wait') ||
        (c.ev.name === 'epoll_ctl' && c.detail.endsWith('TCP listen')) ||
        (c.ev.name === 'read' && c.fd === 'pipe') ||
        ((c.ev.name === 'accept4' || c.ev.name === 'accept') && c.ev.errno !== undefined),
      // the accept and the futex wake that hands the connection to a worker
      endOf: (calls, a) => runEnd(calls, a, (c) => c.ev.name === 'futex' && c.detail === 'FUTEX_WAKE'),
    },
  ],
};

/** MySQL protocol commands (first byte of a packet body from the client). */
const COM_QUIT = 0x01;
const COM_QUERY = 0x03;
const COM_STMT_PREPARE = 0x16;
const COM_STMT_EXECUTE = 0x17;

function sqlText(bytes: readonly number[], truncated: boolean): string {
  const s = String.fromCharCode(...bytes).replace(/\s+/g, ' ').trim();
  return truncated ? `${s}…` : s;
}

/**
 * MariaDB connection threads: each recvfrom is a 4-byte packet header or a packet body;
 * bodies are commands. Prepared statements (sysbench's default) are mapped from their
 * COM_STMT_PREPARE text and the statement id in the server's reply, so an execute's
 * detail is its SQL. A transaction begins with BEGIN and ends with the reply to COMMIT
 * (or ROLLBACK).
 */
function annotateMysql(calls: Call[]): void {
  interface Conn {
    stmts: Map<number, string>;
    pendingPrepare: string | undefined;
    bodies: number;
  }
  const conns = new Map<string, Conn>();
  for (const c of calls) {
    if (c.fd !== 'TCP') continue;
    const connKey = c.argv[0]!;
    let conn = conns.get(connKey);
    if (conn === undefined) conns.set(connKey, (conn = { stmts: new Map(), pendingPrepare: undefined, bodies: 0 }));
    if (c.ev.name === 'recvfrom' && c.ev.errno === undefined && !c.ev.pending) {
      if (c.argv[2] === '4') {
        c.detail = 'packet header';
        continue;
      }
      const d = decodeCString(c.argv[1]);
      if (d === undefined || d.bytes.length === 0) continue;
      conn.bodies++;
      const cmd = d.bytes[0]!;
      if (conn.bodies === 1) {
        c.detail = 'handshake response';
      } else if (cmd === COM_QUERY) {
        const sql = sqlText(d.bytes.slice(1), d.truncated);
        c.detail = `query ${sql}`;
        c.tag = tagOfSql(sql);
      } else if (cmd === COM_STMT_PREPARE) {
        const sql = sqlText(d.bytes.slice(1), d.truncated);
        c.detail = `prepare ${sql}`;
        conn.pendingPrepare = sql;
      } else if (cmd === COM_STMT_EXECUTE) {
        const id = uintLE(d.bytes, 1, 4);
        const sql = id === undefined ? undefined : conn.stmts.get(id);
        c.detail = `execute ${sql ?? `statement ${id ?? '?'}`}`;
        c.tag = sql === undefined ? 'query' : tagOfSql(sql);
      } else if (cmd === COM_QUIT) {
        c.detail = 'quit';
      } else {
        c.detail = `command 0x${cmd.toString(16).padStart(2, '0')}`;
      }
    } else if (c.ev.name === 'sendto' && conn.pendingPrepare !== undefined) {
      // COM_STMT_PREPARE_OK: header (4), status 0x00, statement id (4 bytes LE)
      const d = decodeCString(c.argv[1]);
      const id = d !== undefined && d.bytes[4] === 0 ? uintLE(d.bytes, 5, 4) : undefined;
      if (id !== undefined) conn.stmts.set(id, conn.pendingPrepare);
      conn.pendingPrepare = undefined;
    }
  }
}

function tagOfSql(sql: string): string {
  const verb = sql.split(' ')[0]!.toUpperCase();
  if (verb === 'BEGIN' || sql.toUpperCase().startsWith('START TRANSACTION')) return 'begin';
  if (verb === 'COMMIT' || verb === 'ROLLBACK') return 'commit';
  return 'query';
}

function mysqlServer(id: 'mysql-rw' | 'mysql-ro', kind: 'rw' | 'ro'): ServerRule {
  const test = kind === 'rw' ? 'oltp_read_write' : 'oltp_read_only';
  return {
    id,
    description:
      `MariaDB 10.11 (InnoDB, one thread per connection, 64 MB buffer pool holding the 1,000-row table) under sysbench ${test} ` +
      '--threads=2 --time=3 with server-side prepared statements',
    trace: `mariadb-oltp-${kind}.strace.xz`,
    loadGenerator: `mariadb-oltp-${kind}.sysbench.txt`,
    unit: 'transaction',
    load(text) {
      const t = loadLine(text, /transactions:\s+(\d+)/, 'transactions');
      const q = loadLine(text, /queries:\s+(\d+)/, 'queries');
      return { requests: t.value, line: t.line, queries: q.value };
    },
    annotate: annotateMysql,
    roles: [
      {
        role: 'worker',
        inScript: true,
        anchor: (c) => (c.tag === 'begin' ? 1 : 0),
        // the wait for the client's next packet: EAGAIN probe, poll, then the header
        leadIn: (c) => (c.ev.name === 'recvfrom' && (c.ev.errno !== undefined || c.detail === 'packet header')) || c.ev.name === 'poll',
        // a transaction that committed; an attempt that ended in a deadlock (InnoDB rolled
        // it back, sysbench began again) is work for the transactions that did
        served: (calls) => (calls.some((c) => c.tag === 'commit') ? 1 : 0),
        // the reply to the transaction's COMMIT (or ROLLBACK)
        endOf: (calls, a) => {
          for (let i = a + 1; i < calls.length; i++) {
            if (calls[i]!.tag === 'begin') return undefined;
            if (calls[i]!.tag !== 'commit') continue;
            for (let j = i + 1; j < calls.length; j++) if (calls[j]!.ev.name === 'sendto') return j;
            return undefined;
          }
          return undefined;
        },
      },
      {
        role: 'listener',
        inScript: false,
        anchor: (c) => ((c.ev.name === 'accept4' || c.ev.name === 'accept') && c.ev.errno === undefined && !c.ev.pending ? 1 : 0),
        leadIn: (c) => c.ev.name === 'poll',
        endOf: (_calls, a) => a,
      },
    ],
  };
}

const RECV_DGRAM = new Set(['recvmmsg', 'recvmsg', 'recvfrom', 'recv']);
const SEND_DGRAM = new Set(['sendmmsg', 'sendmsg', 'sendto', 'send']);

const BIND: ServerRule = {
  id: 'bind',
  description:
    'BIND 9.18 named (-n 2, libuv network manager), authoritative for a 9-record zone, answering dnsperf -c 2 -Q 2000 -l 3 over UDP',
  trace: 'bind-dnsperf.strace.xz',
  loadGenerator: 'bind-dnsperf.dnsperf.txt',
  unit: 'query',
  load(text) {
    const r = loadLine(text, /Queries completed:\s+(\d+)/, 'Queries completed');
    return { requests: r.value, line: r.line, queries: null };
  },
  roles: [
    {
      role: 'worker',
      inScript: true,
      // one request per datagram received (recvmmsg returns how many)
      anchor: (c) =>
        RECV_DGRAM.has(c.ev.name) && c.fd === 'UDP' && c.ev.errno === undefined && !c.ev.pending && (c.ev.retval ?? 0) > 0
          ? c.ev.name === 'recvmmsg'
            ? c.ev.retval!
            : 1
          : 0,
      // the socket drained (EAGAIN), re-armed (epoll_ctl), and the wait for the next query
      leadIn: (c) => (RECV_DGRAM.has(c.ev.name) && c.ev.errno !== undefined) || c.ev.name === 'epoll_ctl' || c.ev.name.startsWith('epoll_wait'),
      // the answers
      endOf: (calls, a) => runEnd(calls, a, (c) => SEND_DGRAM.has(c.ev.name)),
    },
  ],
};

export const SERVERS: readonly ServerRule[] = [APACHE, mysqlServer('mysql-rw', 'rw'), mysqlServer('mysql-ro', 'ro'), BIND];

// ---------------------------------------------------------------------------- reading

/** The decoration text of an fd argument (`43<TCP:[…]>` → `TCP:[…]`): the identity of an open file in the trace. */
function fdIdentity(arg: string | undefined): string | undefined {
  return arg === undefined ? undefined : decorationOf(arg);
}

/**
 * Reads a trace: calls per thread (in order) with keys and wait classes.
 *
 * Whether a read or accept could block at all is tracked per open file (by its -yy
 * decoration, which names the connection's ports or the pipe's inode): a file made
 * non-blocking (`fcntl F_SETFL O_NONBLOCK`, `accept4 SOCK_NONBLOCK`), one that returned
 * EAGAIN anywhere in the trace, a `MSG_DONTWAIT` receive, or a file the thread's previous
 * call (a poll/epoll_wait returning events) just reported ready, does not block, whatever
 * its recorded duration (strace and preemption stretch durations of calls that never slept).
 */
async function readCalls(file: string): Promise<{ byTid: Map<number, Call[]>; all: Call[] }> {
  const events: SyscallEvent[] = [];
  const reader = readStrace(file);
  for await (const batch of reader.batches()) for (const ev of batch) if (ev.type === 'syscall') events.push(ev);
  if (reader.stats.malformed > 0) throw new Error(`${file}: ${reader.stats.malformed} malformed lines`);
  const argvs = events.map((ev) => splitArgs(argsOf(ev)));
  const fds = events.map((ev, k) => fdOf(ev, argvs[k]!));

  // the next call of the same thread
  const next = new Array<number>(events.length).fill(-1);
  const seen = new Map<number, number>();
  for (let k = events.length - 1; k >= 0; k--) {
    const tid = events[k]!.tid;
    next[k] = seen.get(tid) ?? -1;
    seen.set(tid, k);
  }

  // files that returned EAGAIN somewhere: non-blocking
  const eagainFiles = new Set<string>();
  events.forEach((ev, k) => {
    if ((ev.errno === 'EAGAIN' || ev.errno === 'EWOULDBLOCK') && (READ_CALLS.has(ev.name) || ev.name.startsWith('accept'))) {
      const id = fdIdentity(argvs[k]![0]);
      if (id !== undefined) eagainFiles.add(id);
    }
  });

  // epoll registrations: (epfd, data.u64) → kind of the registered fd. The first
  // registration of a key also serves the waits before it; a key never registered in the
  // trace (registered before strace attached) takes the kind of the file the thread
  // operates on next.
  const epKey = (argv: string[], u: string) => `${(argv[0] ?? '').split('<')[0]}:${u}`;
  const firstReg = new Map<string, string>();
  events.forEach((ev, k) => {
    if (ev.name !== 'epoll_ctl') return;
    const u = /u64=(\d+)/.exec(argvs[k]![3] ?? '');
    if (u && !firstReg.has(epKey(argvs[k]!, u[1]!))) firstReg.set(epKey(argvs[k]!, u[1]!), fdKindOfArg(argvs[k]![2]));
  });
  const currentReg = new Map<string, string>(firstReg);
  const epollKindsOf = new Map<SyscallEvent, string[]>();
  events.forEach((ev, k) => {
    const argv = argvs[k]!;
    if (ev.name === 'epoll_ctl') {
      const u = /u64=(\d+)/.exec(argv[3] ?? '');
      if (u) currentReg.set(epKey(argv, u[1]!), fdKindOfArg(argv[2]));
    } else if (ev.name.startsWith('epoll_wait') || ev.name.startsWith('epoll_pwait')) {
      const kinds: string[] = [];
      for (const m of (argv[1] ?? '').matchAll(/u64=(\d+)/g)) {
        let kind = currentReg.get(epKey(argv, m[1]!));
        if (kind === undefined) {
          const n = next[k]!;
          kind = n >= 0 && fds[n] !== 'none' && fds[n] !== 'eventpoll' ? fds[n]! : '?';
        }
        kinds.push(kind);
      }
      epollKindsOf.set(ev, kinds);
    }
  });
  const epollKinds = (ev: SyscallEvent): string[] => epollKindsOf.get(ev) ?? [];

  const all: Call[] = [];
  const byTid = new Map<number, Call[]>();
  const nonBlocking = new Set<string>();
  const lastOf = new Map<number, SyscallEvent>();
  events.forEach((ev, k) => {
    const argv = argvs[k]!;
    const fd = fds[k]!;
    const id = fdIdentity(argv[0]);
    if ((ev.name === 'fcntl' || ev.name === 'fcntl64') && argv[1] === 'F_SETFL' && id !== undefined) {
      if (/O_NONBLOCK/.test(argv[2] ?? '')) nonBlocking.add(id);
      else nonBlocking.delete(id);
    }
    if (ev.name === 'accept4' && /SOCK_NONBLOCK/.test(argv[3] ?? '')) {
      const r = decorationOf(ev.retText);
      if (r !== undefined) nonBlocking.add(r);
    }
    const prev = lastOf.get(ev.tid);
    lastOf.set(ev.tid, ev);
    const justReady = prev !== undefined && POLL_CALLS.has(prev.name) && (prev.retval ?? 0) > 0;
    const cannotBlock = justReady || (id !== undefined && (nonBlocking.has(id) || eagainFiles.has(id)));
    const w = classifyWait(ev, argv, fd, epollKinds, cannotBlock);
    const c: Call = {
      ev,
      argv,
      fd,
      detail: genericDetail(ev, argv, epollKinds),
      key: '',
      bytes: bytesOf(ev, argv),
      waitFor: w.waitFor,
      probe: w.probe,
      blocked: w.blocked,
      gapUs: undefined,
      tag: undefined,
      anchors: 0,
    };
    all.push(c);
    let list = byTid.get(ev.tid);
    if (list === undefined) byTid.set(ev.tid, (list = []));
    list.push(c);
  });
  for (const list of byTid.values()) {
    for (let i = 1; i < list.length; i++) {
      const p = list[i - 1]!.ev;
      const t = list[i]!.ev.timeUs;
      if (t !== undefined && p.timeUs !== undefined && p.durationUs !== undefined) list[i]!.gapUs = Math.max(0, t - (p.timeUs + p.durationUs));
    }
  }
  return { byTid, all };
}

// ---------------------------------------------------------------------------- cycles

interface Cycle {
  calls: Call[];
  requests: number;
}

interface Cut {
  before: Call[];
  cycles: Cycle[];
  after: Call[];
}

function servedBy(rule: RoleRule, calls: readonly Call[]): number {
  return rule.served ? rule.served(calls) : calls.reduce((n, c) => n + c.anchors, 0);
}

/** Cuts one thread's calls into cycles around its anchors (see the module comment). */
function cutCycles(calls: readonly Call[], rule: RoleRule): Cut {
  const anchors: number[] = [];
  calls.forEach((c, i) => {
    if (c.anchors > 0) anchors.push(i);
  });
  if (anchors.length === 0) return { before: [...calls], cycles: [], after: [] };
  const starts = anchors.map((a, k) => {
    const floor = k === 0 ? 0 : anchors[k - 1]! + 1;
    let s = a;
    while (s > floor && rule.leadIn(calls[s - 1]!)) s--;
    return s;
  });
  const cycles: Cycle[] = [];
  for (let k = 0; k + 1 < anchors.length; k++) {
    const part = calls.slice(starts[k], starts[k + 1]);
    cycles.push({ calls: part, requests: servedBy(rule, part) });
  }
  const lastK = anchors.length - 1;
  const end = rule.endOf(calls, anchors[lastK]!);
  let after: Call[];
  if (end === undefined) {
    after = calls.slice(starts[lastK]);
  } else {
    const part = calls.slice(starts[lastK], end + 1);
    cycles.push({ calls: part, requests: servedBy(rule, part) });
    after = calls.slice(end + 1);
  }
  return { before: calls.slice(0, starts[0]), cycles, after };
}

// ---------------------------------------------------------------------------- alignment

interface StepAcc {
  role: ScriptStep['role'];
  key: string;
  typical: boolean;
  calls: Call[];
  /** Sum of ranks within the gap (extras), for ordering. */
  rankSum: number;
}

/** Longest common subsequence of a and b: pairs [i, j] in order (deterministic tie-breaks). */
function lcs(a: readonly string[], b: readonly string[]): Array<[number, number]> {
  const n = a.length;
  const m = b.length;
  const w = m + 1;
  const L = new Uint16Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      L[i * w + j] = a[i] === b[j] ? L[(i + 1) * w + j + 1]! + 1 : Math.max(L[(i + 1) * w + j]!, L[i * w + j + 1]!);
    }
  }
  const out: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push([i, j]);
      i++;
      j++;
    } else if (L[(i + 1) * w + j]! >= L[i * w + j + 1]!) i++;
    else j++;
  }
  return out;
}

function mode<T>(values: readonly T[], key: (v: T) => string): { value: T; count: number } {
  const counts = new Map<string, { value: T; count: number }>();
  for (const v of values) {
    const k = key(v);
    const e = counts.get(k);
    if (e) e.count++;
    else counts.set(k, { value: v, count: 1 });
  }
  let best: { value: T; count: number; k: string } | undefined;
  for (const [k, e] of counts) if (best === undefined || e.count > best.count || (e.count === best.count && k < best.k)) best = { ...e, k };
  return best!;
}

/** Aligns a role's cycles on their skeleton; returns steps in request order and the share of cycles matching it exactly. */
function alignRole(role: ScriptRole, cycles: readonly Cycle[]): { steps: StepAcc[]; typicalShare: number } {
  const seqs = cycles.map((cy) => cy.calls.map((c) => c.key));
  // typical keys: those most cycles make exactly equally often (at least once)
  const perKey = new Map<string, number[]>();
  seqs.forEach((s, k) => {
    for (const key of s) {
      let v = perKey.get(key);
      if (v === undefined) perKey.set(key, (v = new Array<number>(seqs.length).fill(0)));
      v[k]!++;
    }
  });
  const typical = new Set<string>();
  for (const [key, counts] of perKey) {
    const m = mode(counts, String);
    if (m.value >= 1 && m.count / seqs.length >= 0.5) typical.add(key);
  }
  const reduced = seqs.map((s) => s.filter((k) => typical.has(k)));
  const skel = mode(reduced, (r) => r.join('\n'));
  const skeleton = skel.value;
  const steps: StepAcc[] = skeleton.map((key) => ({ role, key, typical: true, calls: [], rankSum: 0 }));
  const extras = new Map<string, StepAcc & { slot: number }>();
  seqs.forEach((s, k) => {
    const calls = cycles[k]!.calls;
    const pairs = lcs(s, skeleton);
    let p = 0;
    let slot = -1;
    let rank = 0;
    for (let i = 0; i < s.length; i++) {
      if (p < pairs.length && pairs[p]![0] === i) {
        slot = pairs[p]![1];
        steps[slot]!.calls.push(calls[i]!);
        p++;
        rank = 0;
        continue;
      }
      const id = `${slot}\n${s[i]}`;
      let e = extras.get(id);
      if (e === undefined) extras.set(id, (e = { role, key: s[i]!, typical: false, calls: [], rankSum: 0, slot }));
      e.calls.push(calls[i]!);
      e.rankSum += rank++;
    }
  });
  // merge an extra call's rare places into its nearest frequent one
  const requests = cycles.reduce((n, cy) => n + cy.requests, 0);
  const byKey = new Map<string, Array<StepAcc & { slot: number }>>();
  for (const e of extras.values()) {
    let l = byKey.get(e.key);
    if (l === undefined) byKey.set(e.key, (l = []));
    l.push(e);
  }
  const kept: Array<StepAcc & { slot: number }> = [];
  for (const list of byKey.values()) {
    list.sort((x, y) => x.slot - y.slot);
    let big = list.filter((e) => e.calls.length >= MIN_EXTRA_PER_REQUEST * requests);
    if (big.length === 0) big = [list.reduce((a, b) => (b.calls.length > a.calls.length ? b : a))];
    for (const e of list) {
      if (big.includes(e)) continue;
      const to = big.reduce((a, b) => (Math.abs(b.slot - e.slot) < Math.abs(a.slot - e.slot) ? b : a));
      to.calls.push(...e.calls);
      to.rankSum += e.rankSum;
    }
    kept.push(...big);
  }
  const ordered: StepAcc[] = [];
  for (let slot = -1; slot < skeleton.length; slot++) {
    if (slot >= 0) ordered.push(steps[slot]!);
    const here = kept
      .filter((e) => e.slot === slot)
      .sort((x, y) => x.rankSum / x.calls.length - y.rankSum / y.calls.length || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    ordered.push(...here);
  }
  return { steps: ordered, typicalShare: skel.count / seqs.length };
}

// ---------------------------------------------------------------------------- numbers

function round(x: number, digits: number): number {
  const v = Number(x.toFixed(digits));
  return Object.is(v, -0) ? 0 : v;
}
const r4 = (x: number) => round(x, 4);
const r1 = (x: number) => round(x, 1);

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

function sortedRecord<T>(entries: Iterable<[string, T]>): Record<string, T> {
  return Object.fromEntries([...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const m = new Map<string, number>();
  for (const it of items) m.set(key(it), (m.get(key(it)) ?? 0) + 1);
  return sortedRecord(m);
}

function totalsOf(calls: readonly Call[], requests: number, all: number): SyscallTotals {
  const durs = calls.flatMap((c) => (c.ev.durationUs !== undefined && !c.ev.pending ? [c.ev.durationUs] : []));
  const errs = calls.filter((c) => c.ev.errno !== undefined);
  const blocked = calls.filter((c) => c.blocked).length;
  const probes = calls.filter((c) => c.probe).length;
  const waits = calls.filter((c) => c.blocked || c.probe);
  const waitFor: Partial<Record<WaitKind, number>> = {};
  for (const c of waits) if (c.waitFor !== null) waitFor[c.waitFor] = (waitFor[c.waitFor] ?? 0) + 1;
  const med = median(durs);
  return {
    calls: calls.length,
    perRequest: r4(calls.length / requests),
    share: r4(calls.length / all),
    meanUs: durs.length > 0 ? r1(durs.reduce((a, b) => a + b, 0) / durs.length) : null,
    medianUs: med === null ? null : r1(med),
    errorShare: r4(errs.length / calls.length),
    errnos: countBy(errs, (c) => c.ev.errno!),
    waits: waits.length,
    blocked,
    probes,
    work: calls.length - waits.length,
    waitFor: sortedRecord(Object.entries(waitFor) as Array<[WaitKind, number]>) as Record<WaitKind, number>,
  };
}

function stepOf(acc: StepAcc, requests: number): ScriptStep {
  const first = acc.calls[0]!;
  const kinds = countBy(
    acc.calls.filter((c) => c.waitFor !== null),
    (c) => c.waitFor!,
  );
  const waitFor = Object.entries(kinds).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] as WaitKind | undefined;
  const bytes = median(acc.calls.flatMap((c) => (c.bytes === undefined ? [] : [c.bytes])));
  const dur = median(acc.calls.flatMap((c) => (c.ev.durationUs !== undefined && !c.ev.pending ? [c.ev.durationUs] : [])));
  const gap = median(acc.calls.flatMap((c) => (c.gapUs === undefined ? [] : [c.gapUs])));
  return {
    role: acc.role,
    name: first.ev.name,
    fd: first.fd,
    detail: first.detail,
    errno: first.ev.errno ?? null,
    perRequest: r4(acc.calls.length / requests),
    typical: acc.typical,
    waitFor: waitFor ?? null,
    blockedShare: r4(acc.calls.filter((c) => c.blocked).length / acc.calls.length),
    bytes: bytes === null ? null : r1(bytes),
    medianUs: dur === null ? null : r1(dur),
    medianGapUs: gap === null ? null : r1(gap),
  };
}

function matchRow(recording: number, script: number, background: number, unattributed: number): MatchRow {
  const diff = script - recording;
  return {
    recording: r4(recording),
    script: r4(script),
    background: r4(background),
    difference: r4(diff),
    unattributed: r4(unattributed),
    ok: Math.abs(diff) <= Math.max(TOLERANCE.relative * recording, TOLERANCE.absolute),
  };
}

// ---------------------------------------------------------------------------- one server

const FIXTURES = join(projectRoot, 'test/fixtures/strace');

export async function extractServer(rule: ServerRule, fixtures: string = FIXTURES): Promise<ServerMix> {
  const tracePath = join(fixtures, rule.trace);
  const loadPath = join(fixtures, rule.loadGenerator);
  const load = rule.load(readFileSync(loadPath, 'utf8'));
  const { byTid, all } = await readCalls(tracePath);
  const tids = [...byTid.keys()].sort((a, b) => a - b);

  // roles: the first role whose anchors a thread makes
  const roleOf = new Map<number, { rule: RoleRule | undefined; role: ThreadRole }>();
  for (const tid of tids) {
    const calls = byTid.get(tid)!;
    rule.annotate?.(calls);
    let found: RoleRule | undefined;
    for (const rr of rule.roles) {
      if (calls.some((c) => rr.anchor(c) > 0)) {
        found = rr;
        break;
      }
    }
    roleOf.set(tid, { rule: found, role: found?.role ?? 'other' });
    for (const c of calls) {
      c.key = keyOf(c);
      c.anchors = found ? found.anchor(c) : 0;
    }
  }

  // cycles per thread
  const cuts = new Map<number, Cut>();
  const unattributed: Array<{ call: Call; reason: string }> = [];
  for (const tid of tids) {
    const calls = byTid.get(tid)!;
    const r = roleOf.get(tid)!;
    if (r.rule === undefined || !r.rule.inScript) continue; // background, below
    const cut = cutCycles(calls, r.rule);
    cuts.set(tid, cut);
    for (const c of cut.before) unattributed.push({ call: c, reason: 'before the first request' });
    for (const c of cut.after) unattributed.push({ call: c, reason: 'after the last request' });
  }

  // scripts per role
  const scriptRoles = rule.roles.filter((rr) => rr.inScript).map((rr) => rr.role);
  const roles: ServerMix['script']['roles'] = {};
  const steps: ScriptStep[] = [];
  const roleOrder: ScriptRole[] = scriptRoles.includes('listener') ? ['listener', 'worker'] : ['worker'];
  let workerRequests = 0;
  let windowStart = Infinity;
  let windowEnd = -Infinity;
  for (const role of roleOrder) {
    const roleTids = tids.filter((t) => roleOf.get(t)!.role === role && cuts.has(t));
    const cycles = roleTids.flatMap((t) => cuts.get(t)!.cycles);
    if (cycles.length === 0) throw new Error(`${rule.id}: no ${role} cycles`);
    const requests = cycles.reduce((n, cy) => n + cy.requests, 0);
    if (role === 'worker') workerRequests = requests;
    const { steps: accs, typicalShare } = alignRole(role, cycles);
    roles[role] = { threads: roleTids, requests, cycles: cycles.length, typicalShare: r4(typicalShare) };
    for (const a of accs) steps.push(stepOf(a, requests));
    for (const cy of cycles) {
      const f = cy.calls[0]!.ev;
      const l = cy.calls[cy.calls.length - 1]!.ev;
      if (f.timeUs !== undefined) windowStart = Math.min(windowStart, f.timeUs);
      if (l.timeUs !== undefined) windowEnd = Math.max(windowEnd, l.timeUs + (l.durationUs ?? 0));
    }
  }

  // background: the other threads' calls that start within the requests' window
  const bgTids = tids.filter((t) => !cuts.has(t));
  const bgCalls: Call[] = [];
  for (const tid of bgTids) {
    for (const c of byTid.get(tid)!) {
      const t = c.ev.timeUs;
      if (t !== undefined && t >= windowStart && t <= windowEnd) bgCalls.push(c);
      else unattributed.push({ call: c, reason: 'housekeeping outside the requests' });
    }
  }
  const bgByKey = new Map<string, StepAcc>();
  for (const c of bgCalls) {
    let acc = bgByKey.get(c.key);
    if (acc === undefined) bgByKey.set(c.key, (acc = { role: 'background', key: c.key, typical: false, calls: [], rankSum: 0 }));
    acc.calls.push(c);
  }
  const bgSteps = [...bgByKey.values()].sort((a, b) => b.calls.length - a.calls.length || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const a of bgSteps) steps.push(stepOf(a, workerRequests));

  // the recording
  const names = [...new Set(all.map((c) => c.ev.name))].sort();
  const syscalls = sortedRecord(names.map((n) => [n, totalsOf(all.filter((c) => c.ev.name === n), load.requests, all.length)]));
  let first = Infinity;
  let last = -Infinity;
  for (const c of all) {
    const t = c.ev.timeUs;
    if (t === undefined) continue;
    first = Math.min(first, t);
    last = Math.max(last, t + (c.ev.durationUs ?? 0));
  }

  // threads
  const outsideOf = new Map<number, number>();
  for (const u of unattributed) if (!cuts.has(u.call.ev.tid)) outsideOf.set(u.call.ev.tid, (outsideOf.get(u.call.ev.tid) ?? 0) + 1);
  const threads: ThreadView[] = tids.map((tid) => {
    const calls = byTid.get(tid)!;
    const cut = cuts.get(tid);
    const requests = cut ? cut.cycles.reduce((n, cy) => n + cy.requests, 0) : 0;
    const inCycles = cut ? cut.cycles.reduce((n, cy) => n + cy.calls.length, 0) : 0;
    return {
      tid,
      role: roleOf.get(tid)!.role,
      calls: calls.length,
      requests,
      callsPerRequest: requests > 0 ? r4(inCycles / requests) : null,
      outside: cut ? cut.before.length + cut.after.length : (outsideOf.get(tid) ?? 0),
      syscalls: countBy(calls, (c) => c.ev.name),
    };
  });

  // the match, per syscall name
  const scriptPer = new Map<string, number>();
  for (const role of roleOrder) {
    const roleTids = tids.filter((t) => roleOf.get(t)!.role === role && cuts.has(t));
    const cycles = roleTids.flatMap((t) => cuts.get(t)!.cycles);
    const requests = roles[role]!.requests;
    for (const cy of cycles) for (const c of cy.calls) scriptPer.set(c.ev.name, (scriptPer.get(c.ev.name) ?? 0) + 1 / requests);
  }
  const bgPer = new Map<string, number>();
  for (const c of bgCalls) bgPer.set(c.ev.name, (bgPer.get(c.ev.name) ?? 0) + 1 / workerRequests);
  for (const [n, v] of bgPer) scriptPer.set(n, (scriptPer.get(n) ?? 0) + v);
  const unattrBy = countBy(unattributed, (u) => u.call.ev.name);
  const perSyscall = sortedRecord(
    names.map((n) => [
      n,
      matchRow(syscalls[n]!.calls / load.requests, scriptPer.get(n) ?? 0, bgPer.get(n) ?? 0, (unattrBy[n] ?? 0) / load.requests),
    ]),
  );
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const scriptTotal = sum(scriptPer);
  const total = matchRow(all.length / load.requests, scriptTotal, sum(bgPer), unattributed.length / load.requests);

  const rel = (p: string) => relative(projectRoot, p).split('\\').join('/');
  return {
    description: rule.description,
    source: {
      trace: rel(tracePath),
      loadGenerator: rel(loadPath),
      unit: rule.unit,
      requests: load.requests,
      requestsLine: load.line,
      queries: load.queries,
      queriesPerRequest: load.queries === null ? null : r4(load.queries / load.requests),
    },
    recording: {
      calls: all.length,
      pending: all.filter((c) => c.ev.pending).length,
      threads: tids.length,
      spanUs: r1(last - first),
      callsPerRequest: r4(all.length / load.requests),
      syscalls,
    },
    threads,
    script: {
      requests: workerRequests,
      callsPerRequest: r4(scriptTotal),
      roles,
      background: { threads: bgTids, calls: bgCalls.length, windowUs: r1(windowEnd - windowStart) },
      steps,
    },
    unattributed: {
      calls: unattributed.length,
      byReason: countBy(unattributed, (u) => u.reason),
      bySyscall: unattrBy,
    },
    match: { total, perSyscall },
  };
}

/** Extracts every server's mix from the fixtures; the result is validated against the schema. */
export async function extractMixes(fixtures: string = FIXTURES): Promise<Mixes> {
  const servers: Record<string, ServerMix> = {};
  for (const rule of SERVERS) servers[rule.id] = await extractServer(rule, fixtures);
  return MixesSchema.parse({
    description:
      'Per-request system call scripts of three closed-loop servers, extracted from strace recordings (test/fixtures/strace); see src/workloads/server/MIXES.md',
    generator: 'scripts/extract-mixes.ts (src/workloads/server/extract.ts)',
    blockedThresholdUs: BLOCKED_THRESHOLD_US,
    tolerance: TOLERANCE,
    servers,
  });
}

/** JSON with object keys sorted at every level, 2-space indent, newline at the end. */
export function stableJSON(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as Record<string, unknown>)
          .sort()
          .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sortKeys(value), null, 2) + '\n';
}
