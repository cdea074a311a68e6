/**
 * Generators of strace 6.x output for the parser's property tests
 * (test/strace-property.test.ts and its worker, test/strace-fuzz.worker.ts).
 *
 * Each generated thing carries what it should parse to: arguments carry the offsets where
 * strace may cut a call into `<unfinished ...>` / `<... resumed>` halves, results carry
 * their value and errno, and a whole multi-threaded script (`traceArb`) carries the exact
 * events the parser must emit, in order. The formats follow strace `-f -tt/-ttt -T -yy -s N`
 * (see the module comment of src/workloads/trace/strace.ts and test/fixtures/strace/README.md):
 * `%-5d ` tid columns or `[pid %5d] ` prefixes, C-escaped strings with `...` truncation,
 * -yy decorations (escaped paths, nested devices, sockets with `->` inside brackets),
 * `/* comments *\/`, results padded to a column, and so on.
 */
import fc from 'fast-check';

// ---------------------------------------------------------------------------- arguments

/** Argument text and the offsets in it where a call may be cut into halves. */
export interface ArgText {
  text: string;
  /** Offsets just after a `, ` (at any nesting depth), always with 0 and text.length. */
  cuts: number[];
}

const leaf = (text: string): ArgText => ({ text, cuts: [] });

/** Joins items with `, `, recording a cut after each separator; `open`/`close` wrap them. */
function join(items: ArgText[], open = '', close = ''): ArgText {
  let text = open;
  const cuts: number[] = [];
  items.forEach((it, k) => {
    if (k > 0) {
      text += ', ';
      cuts.push(text.length);
    }
    for (const c of it.cuts) cuts.push(text.length + c);
    text += it.text;
  });
  return { text: text + close, cuts };
}

/** strace's C escaping of a byte string (as -s prints it, without the quotes). */
export function cEscape(bytes: ArrayLike<number>): string {
  let s = '';
  for (let k = 0; k < bytes.length; k++) {
    const b = bytes[k]!;
    if (b === 0x22) s += '\\"';
    else if (b === 0x5c) s += '\\\\';
    else if (b === 0x0a) s += '\\n';
    else if (b === 0x09) s += '\\t';
    else if (b === 0x0d) s += '\\r';
    else if (b === 0x0b) s += '\\v';
    else if (b === 0x0c) s += '\\f';
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += '\\' + b.toString(8).padStart(3, '0');
  }
  return s;
}

/** Bytes that make strings interesting for the scanner: quotes, backslashes, brackets, markers. */
const TRICKY = ['"', '\\', '(', ')', '<', '>', '[', ']', '{', '}', '= ', '<... read resumed>', ' <unfinished ...>', '/*', '*/', ', ', '\n', '\0', '\xff', '---', '+++'];

const bytesOf = (s: string): number[] => Array.from(s, (ch) => ch.charCodeAt(0) & 0xff);

const stringBytes: fc.Arbitrary<number[]> = fc
  .array(fc.oneof({ arbitrary: fc.integer({ min: 0, max: 255 }).map((b) => [b]), weight: 3 }, { arbitrary: fc.constantFrom(...TRICKY).map(bytesOf), weight: 2 }), {
    maxLength: 24,
  })
  .map((parts) => parts.flat());

/** A quoted C string, possibly truncated (`"..."...`). */
const cString: fc.Arbitrary<string> = fc.tuple(stringBytes, fc.boolean()).map(([b, cut]) => `"${cEscape(b)}"${cut ? '...' : ''}`);

/** A very long string argument (-s 1M): a short escaped fragment repeated, 10 KB to ~300 KB. */
const longString: fc.Arbitrary<string> = fc
  .tuple(stringBytes.filter((b) => b.length > 0), fc.integer({ min: 2000, max: 40000 }), fc.boolean())
  .map(([b, times, cut]) => {
    const frag = cEscape(b);
    return `"${frag.repeat(Math.max(1, Math.ceil((times * 5) / frag.length)))}"${cut ? '...' : ''}`;
  });

/** A path as -yy prints it inside `<…>`: `<` `>` as \74 \76, `"` and `\` escaped, the rest octal. */
export function yyPath(bytes: ArrayLike<number>): string {
  let s = '';
  for (let k = 0; k < bytes.length; k++) {
    const b = bytes[k]!;
    if (b === 0x3c) s += '\\74';
    else if (b === 0x3e) s += '\\76';
    else if (b === 0x22) s += '\\"';
    else if (b === 0x5c) s += '\\\\';
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += '\\' + b.toString(8).padStart(3, '0');
  }
  return s;
}

const pathChars = fc.constantFrom(...bytesOf('abcxyz019._-/ )([]<>"\\:,=*{}'), 0x0a, 0xc3, 0x01);
const pathArb: fc.Arbitrary<string> = fc.array(pathChars, { maxLength: 20 }).map((b) => '/' + yyPath(b));

const ip4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
const port = fc.integer({ min: 1, max: 65535 });
const inode = fc.integer({ min: 1, max: 9_999_999 });

/** The text inside an fd's -yy decoration. */
const decoration: fc.Arbitrary<string> = fc.oneof(
  pathArb,
  fc.tuple(pathArb, fc.constantFrom('char 1:3', 'char 136:0', 'block 8:1')).map(([p, d]) => `${p}<${d}>`),
  fc.tuple(fc.constantFrom('TCP', 'UDP'), ip4, port, ip4, port).map(([p, a, x, b, y]) => `${p}:[${a}:${x}->${b}:${y}]`),
  fc.tuple(fc.constantFrom('TCP', 'UDP'), ip4, port).map(([p, a, x]) => `${p}:[${a}:${x}]`),
  fc.tuple(port, port).map(([x, y]) => `TCPv6:[[::1]:${x}->[::1]:${y}]`),
  fc.tuple(inode, inode, fc.option(pathArb, { nil: undefined })).map(
    ([a, b, p]) => `UNIX-STREAM:[${a}->${b}${p === undefined ? '' : `,"${p}"`}]`,
  ),
  fc.tuple(fc.constantFrom('socket', 'pipe'), inode).map(([k, n]) => `${k}:[${n}]`),
  fc.constantFrom('anon_inode:[eventpoll]', 'anon_inode:[eventfd]', 'anon_inode:inotify', 'NETLINK:[ROUTE:1234]'),
);

const fdArb: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 1023 }), decoration).map(([fd, d]) => `${fd}<${d}>`),
  pathArb.map((p) => `AT_FDCWD<${p}>`),
);

const FLAGS = ['O_RDONLY', 'O_CLOEXEC', 'O_NONBLOCK', 'MAP_PRIVATE', 'MAP_ANONYMOUS', 'FUTEX_WAIT_PRIVATE', 'SOCK_CLOEXEC', 'CLONE_VM', 'CLONE_THREAD', 'SIGCHLD', 'EPOLLIN', 'POLLIN'];
const ident = fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/);

const scalar: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.integer({ min: -1, max: 2 ** 31 }).map(String), weight: 4 },
  { arbitrary: fc.integer({ min: 0, max: 2 ** 48 }).map((v) => `0x${v.toString(16)}`), weight: 3 },
  { arbitrary: fc.constantFrom('NULL', '...', '8192*1024', '1<<20', 'RLIM64_INFINITY', '~[RTMIN RT_1]', '[USR1 CHLD]', '[]', '{...}'), weight: 2 },
  { arbitrary: fc.array(fc.constantFrom(...FLAGS), { minLength: 1, maxLength: 4 }).map((f) => f.join('|')), weight: 2 },
  { arbitrary: cString, weight: 4 },
  { arbitrary: fdArb, weight: 4 },
  {
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 2 ** 40 }), fc.constantFrom('35 vars', '0.01 s', 'SIGUSR1', ''))
      .map(([v, c]) => `0x${v.toString(16)} /* ${c} */`),
    weight: 1,
  },
  { arbitrary: fc.tuple(fc.nat(4096), fc.nat(4096)).map(([a, b]) => `[${a} => ${b}]`), weight: 1 },
);

/** One argument, nested up to `depth` levels of structs, arrays and function-like forms. */
function argArb(depth: number): fc.Arbitrary<ArgText> {
  const base = scalar.map(leaf);
  if (depth <= 0) return base;
  const items = fc.array(argArb(depth - 1), { maxLength: 4 });
  const fields = fc.array(fc.tuple(ident, argArb(depth - 1)), { minLength: 1, maxLength: 4 });
  return fc.oneof(
    { arbitrary: base, weight: 6 },
    {
      arbitrary: fields.map((fs) => join(fs.map(([k, v]) => ({ text: `${k}=${v.text}`, cuts: v.cuts.map((c) => c + k.length + 1) })), '{', '}')),
      weight: 2,
    },
    { arbitrary: items.map((xs) => join(xs, '[', ']')), weight: 2 },
    { arbitrary: fc.tuple(fc.constantFrom('htons', 'inet_addr', 'makedev', 'st_mode'), items).map(([f, xs]) => join(xs, `${f}(`, ')')), weight: 1 },
  );
}

/** `arb` one time in `n`, else undefined. */
function rarely<T>(arb: fc.Arbitrary<T>, n: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: n - 1 }, { arbitrary: arb, weight: 1 });
}

/** A call's whole argument list. */
export const argsArb: fc.Arbitrary<ArgText> = fc
  .tuple(fc.array(argArb(2), { maxLength: 6 }), rarely(longString, 40), rarely(fc.tuple(argArb(1), argArb(1)), 8))
  .map(([xs, long, inout]) => {
    const list = [...xs];
    if (long !== undefined) list.splice(Math.min(1, list.length), 0, leaf(long));
    // clone3-like: `{in} => {out}`, cut before ` => ` (the exit half prints the output)
    if (inout !== undefined) list.unshift({ text: `${inout[0].text} => ${inout[1].text}`, cuts: [...inout[0].cuts, inout[0].text.length] });
    const a = join(list);
    return { text: a.text, cuts: [...new Set([0, ...a.cuts, a.text.length])].sort((x, y) => x - y) };
  });

// ---------------------------------------------------------------------------- results

export interface Result {
  /** Text after `= `, without the duration. */
  text: string;
  retval: number | undefined;
  errno: string | undefined;
}

const ERRNOS: [string, string][] = [
  ['ENOENT', 'No such file or directory'],
  ['EAGAIN', 'Resource temporarily unavailable'],
  ['EBADF', 'Bad file descriptor'],
  ['EINTR', 'Interrupted system call'],
  ['ETIMEDOUT', 'Connection timed out'],
  ['ENOSYS', 'Function not implemented'],
];
const RESTARTS: [string, string][] = [
  ['ERESTARTSYS', 'To be restarted if SA_RESTART is set'],
  ['ERESTARTNOHAND', 'To be restarted if no handler'],
  ['ERESTART_RESTARTBLOCK', 'Interrupted by signal'],
  ['ERESTARTNOINTR', 'To be restarted'],
];
const errnoArb: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.constantFrom(...ERRNOS),
  fc.tuple(fc.stringMatching(/^E[A-Z0-9_]{1,12}$/), fc.stringMatching(/^[A-Za-z][A-Za-z ,']{0,30}$/)),
);

/** The value and what comes right after it (a decoration, an errno). */
const valueArb: fc.Arbitrary<Result> = fc.oneof(
  { arbitrary: fc.constant<Result>({ text: '?', retval: undefined, errno: undefined }), weight: 1 },
  { arbitrary: fc.constant<Result>({ text: '? <unavailable>', retval: undefined, errno: undefined }), weight: 1 },
  { arbitrary: fc.maxSafeNat().map((v): Result => ({ text: String(v), retval: v, errno: undefined })), weight: 2 },
  { arbitrary: fc.nat(65536).map((v): Result => ({ text: String(v), retval: v, errno: undefined })), weight: 4 },
  { arbitrary: fc.integer({ min: 0, max: 2 ** 48 }).map((v): Result => ({ text: `0x${v.toString(16)}`, retval: v, errno: undefined })), weight: 2 },
  { arbitrary: fc.integer({ min: 1, max: 0o7777 }).map((v): Result => ({ text: `0${v.toString(8)}`, retval: v, errno: undefined })), weight: 1 },
  {
    arbitrary: fc.tuple(fc.nat(1023), decoration).map(([v, d]): Result => ({ text: `${v}<${d}>`, retval: v, errno: undefined })),
    weight: 2,
  },
  { arbitrary: errnoArb.map(([e, t]): Result => ({ text: `-1 ${e} (${t})`, retval: -1, errno: e })), weight: 3 },
  { arbitrary: fc.constantFrom(...RESTARTS).map(([e, t]): Result => ({ text: `? ${e} (${t})`, retval: undefined, errno: e })), weight: 1 },
);

/** Annotations strace prints after a result: `(flags O_RDWR)`, `(Timeout)`, `([{fd=5, revents=POLLIN}])`, … */
const annotation: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('(flags O_RDWR|O_LARGEFILE)', '(Timeout)', '([{fd=5, revents=POLLIN}])', '(in [3], left {tv_sec=0, tv_usec=998})', '(INJECTED)'),
  fc.array(argArb(1), { minLength: 1, maxLength: 3 }).map((xs) => join(xs, '(', ')').text),
);

export const resultArb: fc.Arbitrary<Result> = fc
  .tuple(valueArb, fc.array(annotation, { maxLength: 2 }))
  .map(([v, ann]) => (v.text.endsWith('<unavailable>') || ann.length === 0 ? v : { ...v, text: `${v.text} ${ann.join(' ')}` }));

/** A -T duration: microseconds and how it is printed (6 or 9 fraction digits). */
export interface Duration {
  us: number;
  text: string;
}

export const durationArb: fc.Arbitrary<Duration> = fc
  .tuple(fc.integer({ min: 0, max: 100_000_000 }), fc.boolean())
  .map(([us, ns]) => ({ us, text: `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}${ns ? '000' : ''}` }));

// ---------------------------------------------------------------------------- calls

const NAMES = ['read', 'write', 'openat', 'close', 'futex', 'epoll_wait', 'accept4', 'recvfrom', 'sendto', 'mmap', 'poll', 'writev', 'fcntl', 'wait4', 'execve', 'nanosleep', '_llseek', 'rt_sigreturn'];
export const CLONE_NAMES = ['clone', 'clone3', 'fork', 'vfork'];

export interface CallSpec {
  name: string;
  args: ArgText;
  result: Result;
  duration: Duration | undefined;
  /** Spaces between `)` and `=` (strace pads results to a column). */
  pad: number;
  /** What `child` must be. */
  child: number | undefined;
  /** What `restarted` must be. */
  restarted: string | undefined;
}

const plainCall: fc.Arbitrary<CallSpec> = fc
  .record({
    name: fc.oneof(fc.constantFrom(...NAMES), ident.filter((n) => n !== 'restart_syscall' && !CLONE_NAMES.includes(n))),
    args: argsArb,
    result: resultArb,
    duration: fc.option(durationArb, { nil: undefined }),
    pad: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 40 })),
  })
  .map((c) => ({ ...c, child: undefined, restarted: undefined }));

/** clone/clone3/fork/vfork returning the child's tid (or failing). */
const cloneCall: fc.Arbitrary<CallSpec> = fc
  .record({
    name: fc.constantFrom(...CLONE_NAMES),
    args: argsArb,
    child: fc.integer({ min: 1, max: 4_194_304 }),
    fails: fc.boolean(),
    duration: fc.option(durationArb, { nil: undefined }),
    pad: fc.integer({ min: 1, max: 8 }),
  })
  .map(({ name, args, child, fails, duration, pad }): CallSpec => {
    const result: Result = fails
      ? { text: '-1 EAGAIN (Resource temporarily unavailable)', retval: -1, errno: 'EAGAIN' }
      : { text: String(child), retval: child, errno: undefined };
    return { name, args, result, duration, pad, child: fails ? undefined : child, restarted: undefined };
  });

/** restart_syscall(<... resuming interrupted NAME ...>). */
const restartCall: fc.Arbitrary<CallSpec> = fc
  .tuple(fc.constantFrom('read', 'clock_nanosleep', 'poll', 'futex'), resultArb, fc.option(durationArb, { nil: undefined }))
  .map(([n, result, duration]) => {
    const text = `<... resuming interrupted ${n} ...>`;
    return { name: 'restart_syscall', args: { text, cuts: [0, text.length] }, result, duration, pad: 1, child: undefined, restarted: n };
  });

export const callArb: fc.Arbitrary<CallSpec> = fc.oneof({ arbitrary: plainCall, weight: 8 }, { arbitrary: cloneCall, weight: 2 }, { arbitrary: restartCall, weight: 1 });

function tailOf(c: CallSpec): string {
  return `)${' '.repeat(c.pad)}= ${c.result.text}${c.duration === undefined ? '' : ` <${c.duration.text}>`}`;
}

/** A call on one line: `name(args) = result <duration>`. */
export function renderCall(c: CallSpec): string {
  return `${c.name}(${c.args.text}${tailOf(c)}`;
}

/** The entry half, cut at args offset `cut`: `name(head <unfinished ...>`. */
export function renderEntry(c: CallSpec, cut: number, marker = '<unfinished ...>'): string {
  return `${c.name}(${c.args.text.slice(0, cut)} ${marker}`;
}

/** The exit half: `<... name resumed>tail) = result <duration>`. */
export function renderResumed(c: CallSpec, cut: number): string {
  return `<... ${c.name} resumed>${c.args.text.slice(cut)}${tailOf(c)}`;
}

// ---------------------------------------------------------------------------- signals and exits

const SIGNALS = ['SIGCHLD', 'SIGUSR1', 'SIGSEGV', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGHUP', 'SIGRT_1', 'SIGRTMIN', 'SIGSTOP', 'SIGKILL'];
const signalName = fc.oneof({ arbitrary: fc.constantFrom(...SIGNALS), weight: 4 }, { arbitrary: fc.stringMatching(/^SIG[A-Z0-9_]{1,8}$/), weight: 1 });

export interface SignalSpec {
  signal: string;
  info: string;
  stopped: boolean;
}

export const signalArb: fc.Arbitrary<SignalSpec> = fc.oneof(
  {
    arbitrary: fc
      .tuple(signalName, fc.constantFrom('SI_USER', 'CLD_EXITED', 'SI_TKILL', 'SEGV_MAPERR'), fc.nat(4_194_304), fc.nat(65535), fc.boolean(), fc.array(argArb(1), { maxLength: 3 }))
      .map(([signal, code, pid, uid, times, extra]) => {
        const fields = [`si_signo=${signal}`, `si_code=${code}`, `si_pid=${pid}`, `si_uid=${uid}`];
        if (times) fields.push('si_status=0', 'si_utime=1 /* 0.01 s */', 'si_stime=3 /* 0.03 s */');
        const info = join([...fields.map(leaf), ...extra], '{', '}').text;
        return { signal, info, stopped: false };
      }),
    weight: 4,
  },
  { arbitrary: fc.constantFrom('SIGSTOP', 'SIGTSTP', 'SIGTTIN').map((signal) => ({ signal, info: '', stopped: true })), weight: 1 },
);

export function renderSignal(s: SignalSpec): string {
  return s.stopped ? `--- stopped by ${s.signal} ---` : `--- ${s.signal} ${s.info} ---`;
}

export type EndSpec = { type: 'exit'; code: number } | { type: 'kill'; signal: string; coreDumped: boolean };

export const endArb: fc.Arbitrary<EndSpec> = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((code): EndSpec => ({ type: 'exit', code })),
  fc.tuple(signalName, fc.boolean()).map(([signal, coreDumped]): EndSpec => ({ type: 'kill', signal, coreDumped })),
);

export function renderEnd(e: EndSpec): string {
  return e.type === 'exit' ? `+++ exited with ${e.code} +++` : `+++ killed by ${e.signal}${e.coreDumped ? ' (core dumped)' : ''} +++`;
}

// ---------------------------------------------------------------------------- line prefixes

export type PrefixStyle = 'column' | 'pid' | 'none';
export type TimeFormat = 'none' | 't' | 'tt' | 'ttns' | 'ttt';

/** The tid column of `-f -o FILE` (`%-5d `) or the `[pid %5d] ` prefix of stderr output. */
export function renderTid(style: PrefixStyle, tid: number): string {
  if (style === 'column') return `${String(tid).padEnd(5)} `;
  if (style === 'pid') return `[pid ${String(tid).padStart(5)}] `;
  return '';
}

const EPOCH_BASE_US = 1_700_000_000_000_000;
const DAY_US = 86_400_000_000;

/**
 * A time (µs since midnight of the first day, plus 0–999 ns) printed in a format, followed
 * by a space; and the timeUs the parser must give for it.
 */
export function renderTime(format: TimeFormat, us: number, ns: number): { text: string; timeUs: number | undefined } {
  const tod = us % DAY_US;
  const hms = (t: number) => {
    const s = Math.floor(t / 1e6);
    return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  };
  const frac = String(tod % 1e6).padStart(6, '0');
  switch (format) {
    case 'none':
      return { text: '', timeUs: undefined };
    case 't':
      return { text: `${hms(tod)} `, timeUs: Math.floor(us / 1e6) * 1e6 };
    case 'tt':
      return { text: `${hms(tod)}.${frac} `, timeUs: us };
    case 'ttns':
      return { text: `${hms(tod)}.${frac}${String(ns).padStart(3, '0')} `, timeUs: us + ns / 1000 };
    case 'ttt': {
      const e = EPOCH_BASE_US + us;
      return { text: `${Math.floor(e / 1e6)}.${String(e % 1e6).padStart(6, '0')} `, timeUs: e };
    }
  }
}

export const prefixStyleArb = fc.constantFrom<PrefixStyle>('column', 'pid', 'none');
export const multiPrefixStyleArb = fc.constantFrom<PrefixStyle>('column', 'pid');
export const timeFormatArb = fc.constantFrom<TimeFormat>('none', 't', 'tt', 'ttns', 'ttt');
export const tidArb = fc.oneof(fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 4_194_304 }));
/** A start time of day, often just before midnight (so traces cross it). */
export const startUsArb = fc.oneof(fc.integer({ min: 0, max: DAY_US - 1 }), fc.integer({ min: DAY_US - 5_000_000, max: DAY_US - 1 }));

// ---------------------------------------------------------------------------- expected events

/** An event as the parser must report it (the parser's event types, minus `file`). */
export type Expected =
  | {
      type: 'syscall';
      tid: number;
      timeUs: number | undefined;
      line: number;
      name: string;
      args: string;
      retText: string;
      retval: number | undefined;
      errno: string | undefined;
      durationUs: number | undefined;
      pending: boolean;
      detached: boolean;
      restarted: string | undefined;
      child: number | undefined;
    }
  | { type: 'signal'; tid: number; timeUs: number | undefined; line: number; signal: string; info: string; stopped: boolean }
  | { type: 'exit'; tid: number; timeUs: number | undefined; line: number; code: number }
  | { type: 'kill'; tid: number; timeUs: number | undefined; line: number; signal: string; coreDumped: boolean };

export function expectedCall(c: CallSpec, tid: number, timeUs: number | undefined, line: number): Expected {
  return {
    type: 'syscall',
    tid,
    timeUs,
    line,
    name: c.name,
    args: c.args.text,
    retText: c.result.text,
    retval: c.result.retval,
    errno: c.result.errno,
    durationUs: c.duration?.us,
    pending: false,
    detached: false,
    restarted: c.restarted,
    child: c.child,
  };
}

export function expectedPending(c: CallSpec, cut: number, tid: number, timeUs: number | undefined, line: number, detached: boolean): Expected {
  return {
    type: 'syscall',
    tid,
    timeUs,
    line,
    name: c.name,
    args: c.args.text.slice(0, cut),
    retText: '',
    retval: undefined,
    errno: undefined,
    durationUs: undefined,
    pending: true,
    detached,
    restarted: undefined,
    child: undefined,
  };
}

// ---------------------------------------------------------------------------- one event

/** One event of any kind, for single-line round trips. */
export type OneEvent =
  | { kind: 'call'; call: CallSpec }
  | { kind: 'split'; call: CallSpec; cutIndex: number }
  | { kind: 'signal'; signal: SignalSpec }
  | { kind: 'end'; end: EndSpec };

export const oneEventArb: fc.Arbitrary<OneEvent> = fc.oneof(
  { arbitrary: callArb.map((call): OneEvent => ({ kind: 'call', call })), weight: 5 },
  { arbitrary: fc.tuple(callArb, fc.nat()).map(([call, cutIndex]): OneEvent => ({ kind: 'split', call, cutIndex })), weight: 3 },
  { arbitrary: signalArb.map((signal): OneEvent => ({ kind: 'signal', signal })), weight: 1 },
  { arbitrary: endArb.map((end): OneEvent => ({ kind: 'end', end })), weight: 1 },
);

// ---------------------------------------------------------------------------- multi-threaded scripts

/** What one thread does, in order. */
export interface ThreadSpec {
  tid: number;
  steps: ({ kind: 'call'; call: CallSpec; split: boolean; cutIndex: number } | { kind: 'signal'; signal: SignalSpec })[];
  /** How it ends: still in a call at the end of the input, in a call when it exits, detached in a call, or not at all. */
  last: { kind: 'none' } | { kind: 'end'; end: EndSpec } | { kind: 'pending'; call: CallSpec; cutIndex: number; end: EndSpec | undefined } | { kind: 'detached'; call: CallSpec; cutIndex: number };
}

const stepArb = fc.oneof(
  { arbitrary: fc.tuple(callArb, fc.boolean(), fc.nat()).map(([call, split, cutIndex]) => ({ kind: 'call' as const, call, split, cutIndex })), weight: 6 },
  { arbitrary: signalArb.map((signal) => ({ kind: 'signal' as const, signal })), weight: 1 },
);

const lastArb: fc.Arbitrary<ThreadSpec['last']> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  endArb.map((end) => ({ kind: 'end' as const, end })),
  fc.tuple(callArb, fc.nat(), fc.option(endArb, { nil: undefined })).map(([call, cutIndex, end]) => ({ kind: 'pending' as const, call, cutIndex, end })),
  fc.tuple(callArb, fc.nat()).map(([call, cutIndex]) => ({ kind: 'detached' as const, call, cutIndex })),
);

export interface TraceSpec {
  style: PrefixStyle;
  time: TimeFormat;
  startUs: number;
  threads: ThreadSpec[];
  /** Which thread prints its next line (indices into the threads still printing, modulo). */
  picks: number[];
  /** Microseconds between consecutive lines (cycled). */
  gaps: number[];
  /** Nanoseconds of the timestamps (cycled), for the 9-digit format. */
  ns: number[];
}

export const traceArb: fc.Arbitrary<TraceSpec> = fc.record({
  style: multiPrefixStyleArb,
  time: timeFormatArb,
  startUs: startUsArb,
  threads: fc.uniqueArray(tidArb, { minLength: 1, maxLength: 6 }).chain((tids) =>
    fc.tuple(...tids.map((tid) => fc.record({ tid: fc.constant(tid), steps: fc.array(stepArb, { maxLength: 8 }), last: lastArb }))),
  ),
  picks: fc.array(fc.nat(), { maxLength: 80 }),
  gaps: fc.array(fc.integer({ min: 0, max: 2_000_000 }), { minLength: 1, maxLength: 8 }),
  ns: fc.array(fc.nat(999), { minLength: 1, maxLength: 4 }),
});

/** A cut offset of a call's arguments, chosen by an index. */
export function cutAt(c: CallSpec, index: number): number {
  return c.args.cuts[index % c.args.cuts.length]!;
}

/**
 * Renders a script into lines, interleaving the threads as `picks` says, and computes the
 * events the parser must emit, in its order: a call at the line that completes it (with the
 * entry's line and time), a thread's unfinished call just before its exit, and calls never
 * completed at the end, by (entry time, entry line).
 */
export function renderTrace(t: TraceSpec): { lines: string[]; expected: Expected[] } {
  type Item = { line: string; emit: (lineNo: number, timeUs: number | undefined) => void };
  const lines: string[] = [];
  const expected: Expected[] = [];
  const open = new Map<number, { call: CallSpec; cut: number; line: number; timeUs: number | undefined }>();
  const queues: Item[][] = t.threads.map((th) => {
    const q: Item[] = [];
    const tid = th.tid;
    const halves = (call: CallSpec, cut: number, marker = '<unfinished ...>') =>
      q.push({
        line: renderEntry(call, cut, marker),
        emit: (line, timeUs) => {
          if (marker === '<detached ...>') expected.push(expectedPending(call, cut, tid, timeUs, line, true));
          else open.set(tid, { call, cut, line, timeUs });
        },
      });
    const end = (e: EndSpec) =>
      q.push({
        line: renderEnd(e),
        emit: (line, timeUs) => {
          const o = open.get(tid);
          if (o !== undefined) {
            open.delete(tid);
            expected.push(expectedPending(o.call, o.cut, tid, o.timeUs, o.line, false));
          }
          expected.push(e.type === 'exit' ? { type: 'exit', tid, timeUs, line, code: e.code } : { type: 'kill', tid, timeUs, line, signal: e.signal, coreDumped: e.coreDumped });
        },
      });
    for (const s of th.steps) {
      if (s.kind === 'signal') {
        q.push({ line: renderSignal(s.signal), emit: (line, timeUs) => expected.push({ type: 'signal', tid, timeUs, line, ...s.signal }) });
      } else if (!s.split) {
        q.push({ line: renderCall(s.call), emit: (line, timeUs) => expected.push(expectedCall(s.call, tid, timeUs, line)) });
      } else {
        const cut = cutAt(s.call, s.cutIndex);
        halves(s.call, cut);
        q.push({
          line: renderResumed(s.call, cut),
          emit: () => {
            const o = open.get(tid)!;
            open.delete(tid);
            expected.push(expectedCall(s.call, tid, o.timeUs, o.line));
          },
        });
      }
    }
    const last = th.last;
    if (last.kind === 'end') end(last.end);
    else if (last.kind === 'pending') {
      halves(last.call, cutAt(last.call, last.cutIndex));
      if (last.end !== undefined) end(last.end);
    } else if (last.kind === 'detached') halves(last.call, cutAt(last.call, last.cutIndex), '<detached ...>');
    return q;
  });
  const active = queues.map((q, k) => ({ q, k, next: 0 })).filter((a) => a.q.length > 0);
  let us = t.startUs;
  let step = 0;
  while (active.length > 0) {
    const a = active[(t.picks[step % Math.max(1, t.picks.length)] ?? 0) % active.length]!;
    const item = a.q[a.next++]!;
    if (a.next === a.q.length) active.splice(active.indexOf(a), 1);
    const ns = t.ns[step % t.ns.length]!;
    const time = renderTime(t.time, us, ns);
    lines.push(renderTid(t.style, t.threads[a.k]!.tid) + time.text + item.line);
    item.emit(lines.length, time.timeUs);
    us += t.gaps[step % t.gaps.length]!;
    step++;
  }
  const rest = [...open.entries()].map(([tid, o]) => expectedPending(o.call, o.cut, tid, o.timeUs, o.line, false));
  rest.sort((x, y) => (x.timeUs ?? 0) - (y.timeUs ?? 0) || x.line - y.line);
  expected.push(...rest);
  return { lines, expected };
}

// ---------------------------------------------------------------------------- hostile input

/** Fragments of strace syntax, for token soup and insertions. */
export const FRAGMENTS = [
  '<unfinished ...>', ' <unfinished ...>', '<detached ...>', '<... ', ' resumed>', '<... read resumed>', '<pid changed to 5 ...>',
  '"', '\\', '\\"', '(', ')', '<', '>', '<<', '[', ']', '{', '}', '/*', '*/', ' = ', '= ', '?', '-1 ', 'ENOENT', '(No such file)',
  '0x', '0x7f', '017', '<0.000', '>', '+++ ', ' +++', '--- ', ' ---', 'exited with ', 'killed by ', 'SIGKILL', 'superseded by execve in pid ',
  'strace: Process 12 attached', 'strace: Process 12 detached', '[pid ', '[ Process PID=1 runs in 32 bit mode. ]', '10:00:00.', '1700000000.',
  '123 ', '  ', '...', ', ', 'read(', 'restart_syscall(', '<... resuming interrupted read ...>', '->', ':[', '</', '\\74', '\\76',
  '<unavailable>', '(INJECTED)', '\r', '\t', '\0', '\u00e9', '\ud83d\ude00', '9'.repeat(30),
];

/** A random line change. */
export type Mutation =
  | { op: 'delete'; at: number; len: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'repeat'; at: number; len: number; times: number }
  | { op: 'run'; at: number; text: string; times: number }
  | { op: 'truncate'; at: number }
  | { op: 'replace'; at: number; ch: string }
  | { op: 'newline'; at: number }
  | { op: 'join' };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 20 }) }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ unit: fc.constantFrom(...'<>()[]{}"\\/* =-.0123456789'), maxLength: 12 })),
  }),
  // a piece of the line repeated many times: deep nesting, long runs of digits or backslashes
  fc.record({ op: fc.constant('repeat' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 6 }), times: fc.oneof(fc.integer({ min: 2, max: 50 }), fc.integer({ min: 1000, max: 30000 })) }),
  // a long run of an opening construct or a digit: nesting depth, number sizes
  fc.record({
    op: fc.constant('run' as const),
    at: fc.nat(),
    text: fc.constantFrom('<', '<a', '</', '<TCP:[', '(', '[', '{', '"', '\\', '/*', '9', '0x'),
    times: fc.integer({ min: 500, max: 60000 }),
  }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), ch: fc.constantFrom(...'<>()[]{}"\\/* =?-+.:0123456789ZaE\u00ff') }),
  fc.record({ op: fc.constant('newline' as const), at: fc.nat() }),
  fc.constant({ op: 'join' as const }),
);

/** Applies a mutation to line `k` of `lines` (in place; 'join' merges it with the next one). */
export function mutate(lines: string[], k: number, m: Mutation): void {
  const s = lines[k]!;
  const at = s.length === 0 ? 0 : m.op === 'join' ? 0 : m.at % (s.length + 1);
  switch (m.op) {
    case 'delete':
      lines[k] = s.slice(0, at) + s.slice(at + m.len);
      return;
    case 'insert':
      lines[k] = s.slice(0, at) + m.text + s.slice(at);
      return;
    case 'repeat': {
      const piece = s.slice(at, at + m.len) || '<';
      lines[k] = s.slice(0, at) + piece.repeat(m.times) + s.slice(at);
      return;
    }
    case 'run':
      lines[k] = s.slice(0, at) + m.text.repeat(m.times) + s.slice(at);
      return;
    case 'truncate':
      lines[k] = s.slice(0, at);
      return;
    case 'replace':
      lines[k] = s.slice(0, at) + m.ch + s.slice(at + 1);
      return;
    case 'newline':
      lines.splice(k, 1, s.slice(0, at), s.slice(at));
      return;
    case 'join':
      if (k + 1 < lines.length) lines.splice(k, 2, s + lines[k + 1]!);
      return;
  }
}

/** A line of random strace fragments, numbers and characters. */
export const soupLineArb: fc.Arbitrary<string> = fc
  .array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.nat().map(String), fc.string({ unit: 'binary', maxLength: 4 }), ident), { maxLength: 30 })
  .map((parts) => parts.join(''));
