/**
 * Streaming parser of strace output (strace 6.x; recorded with `-f -tt -T -yy -s N -o FILE`
 * in mind, but every combination below is accepted).
 *
 * ## Lines
 *
 *     TID  HH:MM:SS.uuuuuu name(args) = result <duration>          -o FILE with -f
 *     [pid  TID] HH:MM:SS.uuuuuu name(args) = result <duration>    on stderr (no -o)
 *     HH:MM:SS.uuuuuu name(args) = result <duration>               one process, or -ff files
 *
 * - The tid column (`TID` followed by spaces) or `[pid TID] ` prefix is optional. A line
 *   without one belongs to `options.tid`, else the tid in the file name of a `-ff` file
 *   (`PREFIX.TID`, also `PREFIX.TID.gz`/`.xz`), else to tid 0, "unknown". strace on stderr
 *   leaves the prefix out while it traces a single process; a call started on such a line
 *   and resumed on a `[pid TID]` line (or the other way round) is still paired. A tid
 *   above 2^31 - 1 (pid_t) is malformed.
 * - Timestamps: `-t` `HH:MM:SS`, `-tt` `HH:MM:SS.ffffff`, `-ttt` epoch `S.ffffff`, any number
 *   of fraction digits (ns with `--timestamps=…,ns`), or none. They become microseconds
 *   (`timeUs`: since the epoch, or since midnight of the first day for time-of-day stamps; a
 *   time of day more than 12 h before its predecessor in the same file is taken as the next
 *   day). Epoch microseconds are exact up to 2^53 µs (year 2255), and later ones are
 *   malformed; nanoseconds keep about 0.25 µs of precision there.
 * - `-T` durations `<0.000123>` become `durationUs` (at most 2^53 µs).
 *
 * ## Calls
 *
 * The arguments are scanned, not split: strings (`"…"` with C escapes, where `\"` does not
 * end the string, followed by `...` when truncated by -s), `/* comments *\/`, nested
 * `()[]{}` and -y/-yy decorations are skipped as units, so a `)`, `>`, `= ` or `<... ` inside
 * any of them is no boundary. Decorations are `<…>` right after an fd or `AT_FDCWD`: paths
 * (`3</etc/passwd>`; strace escapes `<` and `>` in them as `\74`/`\76`, and may nest a
 * device `</dev/null<char 1:3>>`) and typed ones (`<TCP:[127.0.0.1:80->127.0.0.1:5000]>`,
 * `<socket:[1234]>`, `<UNIX-STREAM:[1->2,"/run/x.sock"]>`, `<pipe:[5]>`,
 * `<anon_inode:[eventpoll]>`), where a `>` inside `[…]` (the `->`) or a quoted path does not
 * end the decoration.
 *
 * After the arguments: ` = ` and the return value (`?`, decimal, `0x…` hex, `0…` octal as
 * umask prints it), an optional decoration (`= 3</path>`), an errno (`-1 ENOENT (No such file
 * or directory)`, `? ERESTARTSYS (To be restarted if SA_RESTART is set)`), any
 * parenthesised annotations (`(flags O_RDWR)`, `(Timeout)`, `(in [3])`, `(INJECTED)`),
 * `<unavailable>`, and the duration. A return value beyond 64 bits is malformed (so every number
 * an event holds is finite).
 *
 * A call other threads interrupt is printed in halves:
 *
 *     12 read(3</x>,  <unfinished ...>             entry: time, input arguments
 *     13 …other threads…
 *     12 <... read resumed>"data", 64) = 4 <0.01>  exit: output arguments, result
 *
 * The halves are merged into one event (`args` is the first half's text without the marker
 * joined to the second's; `timeUs` is the entry time). Also understood: `<detached ...>` (strace
 * detached while the call was in progress: emitted at once as pending and detached),
 * `<pid changed to N ...>` (an execve by a non-leader thread at the end of its `-ff` file; it
 * resumes as pid N after `+++ superseded by execve in pid TID +++`), `<... read resumed>
 * <unfinished ...>) = ?` (a call cut short by another thread's execve), and
 * `restart_syscall(<... resuming interrupted NAME ...>)` (reported as `restart_syscall` with
 * `restarted: NAME`). A call still unfinished when its thread exits or the input ends is
 * emitted then, with `pending: true`. Calls of the clone family (clone, clone3, fork, vfork)
 * give the new tid as `child` — the return value is the only place it appears for certain.
 *
 * ## Other lines
 *
 * `--- SIGCHLD {si_signo=…, si_utime=1 /* 0.01 s *\/, …} ---` and `--- stopped by SIGSTOP ---`
 * (signal events), `+++ exited with N +++` (exit), `+++ killed by SIGKILL (core dumped) +++`
 * (kill) and `+++ superseded by execve in pid N +++` (superseded). strace's own messages
 * (`strace: Process N attached`), which appear when the trace goes to stderr, are skipped —
 * also when one is spliced into the middle of a trace line, whose rest then follows on the
 * next line. Blank lines are skipped. Anything else is malformed: a FileInputError naming
 * the file and line, or, with `lenient: true`, a line skipped and counted in `stats`.
 *
 * ## Files and order
 *
 * Input is plain, gzip or xz, read in chunks (constant memory: the only state kept is one
 * unfinished call per thread). Events come out in the order of the line that completes them
 * (a merged call at its resumed half), so `timeUs` is not monotonic across threads. Several
 * files (the per-tid files of `strace -ff -o PREFIX`: pass them all) are merged line by line
 * in timestamp order (ties: in the order given) and parsed as one trace, so an execve that
 * starts in one file and resumes in another is paired; without timestamps they are read one
 * after another. All of them are open at once, each with a 64 KiB read buffer by default.
 *
 * ## API
 *
 *     for await (const ev of readStrace('trace.xz')) …            // events
 *     for await (const batch of readStrace(files).batches()) …    // arrays of events (faster)
 *     const s = await summarizeStrace('trace.xz');                // calls per syscall name, …
 *     parseStraceText(text)                                       // in memory, for snippets
 *     for await (const batch of parseStraceStream(chunks)) …       // bytes from a pipe, a generator, …
 *
 * `reader.stats` counts lines, bytes, strace messages and (lenient) malformed lines.
 */
import { FileInputError } from '../../errors.js';
import { DEFAULT_CHUNK, readLines, splitLines, type LineCounters } from './strace-input.js';

// ---------------------------------------------------------------------------- events

interface EventBase {
  /** Thread id (0 when unknown: see the module comment). */
  tid: number;
  /** Microseconds (see the module comment), undefined without timestamps. For a call: its entry. */
  timeUs: number | undefined;
  /** The file and 1-based line the event starts on. */
  file: string;
  line: number;
}

export interface SyscallEvent extends EventBase {
  type: 'syscall';
  name: string;
  /** The argument text between the parentheses, both halves of a split call joined. */
  args: string;
  /** Everything after `= ` up to the duration, e.g. `3</etc/passwd>`, `-1 ENOENT (No such file or directory)`; '' when pending. */
  retText: string;
  /** The return value; undefined for `?` and for pending calls. Hex and octal are converted (exact up to 2^53). */
  retval: number | undefined;
  /** The error name after the return value (`ENOENT`, `ERESTARTSYS`, …), if any. */
  errno: string | undefined;
  /** `-T` time spent in the call, in microseconds. */
  durationUs: number | undefined;
  /** Entered the kernel but never seen to return (trace end, thread exit, or detach). */
  pending: boolean;
  /** Pending because strace detached (`<detached ...>`). */
  detached: boolean;
  /** For `restart_syscall`: the name of the call it resumes. */
  restarted: string | undefined;
  /** For clone, clone3, fork and vfork: the new tid (a positive return value). */
  child: number | undefined;
}

export interface SignalEvent extends EventBase {
  type: 'signal';
  /** `SIGCHLD`, … */
  signal: string;
  /** The siginfo text, e.g. `{si_signo=SIGCHLD, …}`; '' for a stop. */
  info: string;
  /** `--- stopped by SIG… ---` (a group stop) rather than a delivery. */
  stopped: boolean;
}

export interface ExitEvent extends EventBase {
  type: 'exit';
  code: number;
}

export interface KillEvent extends EventBase {
  type: 'kill';
  signal: string;
  coreDumped: boolean;
}

/** `+++ superseded by execve in pid N +++`: thread `by` exec'd, and `tid` (the leader) goes on as it. */
export interface SupersededEvent extends EventBase {
  type: 'superseded';
  by: number;
}

export type StraceEvent = SyscallEvent | SignalEvent | ExitEvent | KillEvent | SupersededEvent;

export interface StraceOptions {
  /** Skip and count malformed lines instead of failing on the first. */
  lenient?: boolean;
  /** Tid of lines without a tid column or prefix (default: from a `-ff` file name, else 0). */
  tid?: number;
  /** Bytes per read (default 1 MiB for one file, 64 KiB each when merging several). */
  chunkSize?: number;
  /** Longest line accepted, in characters (default 64 Mi). */
  maxLineChars?: number;
}

export interface MalformedLine {
  file: string;
  line: number;
  detail: string;
}

export interface StraceStats {
  files: number;
  /** Decompressed bytes read. */
  bytes: number;
  /** Physical lines read. */
  lines: number;
  /** Lines skipped as malformed (lenient mode; otherwise the first one throws). */
  malformed: number;
  /** The first few malformed lines. */
  malformedExamples: MalformedLine[];
  /** strace's own messages skipped (`strace: Process N attached`). */
  messages: number;
}

const MAX_EXAMPLES = 10;

export function emptyStats(): StraceStats {
  return { files: 0, bytes: 0, lines: 0, malformed: 0, malformedExamples: [], messages: 0 };
}

// ---------------------------------------------------------------------------- characters

const SP = 32;
const QUOTE = 34;
const LPAR = 40;
const RPAR = 41;
const STAR = 42;
const MINUS = 45;
const DOT = 46;
const SLASH = 47;
const D0 = 48;
const D9 = 57;
const COLON = 58;
const LT = 60;
const GT = 62;
const QMARK = 63;
const LBRK = 91;
const BSL = 92;
const RBRK = 93;
const LBRC = 123;
const RBRC = 125;

/** 1 for bytes the argument scanner must look at, 0 for plain text. */
const SPECIAL = new Uint8Array(65536);
for (const c of [QUOTE, LPAR, RPAR, LBRK, RBRK, LBRC, RBRC, LT, SLASH]) SPECIAL[c] = 1;

/** 1 for characters of a syscall name. */
const NAME_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9_]/.test(ch)) NAME_CHAR[c] = 1;
}

function isDigit(c: number): boolean {
  return c >= D0 && c <= D9;
}

const DAY_US = 86_400_000_000;
/** The largest tid (pid_t is a signed 32-bit int). */
const MAX_TID = 2 ** 31 - 1;
/** Timestamps and durations beyond 2^53 µs (year 2255, 285 years) are malformed. */
const MAX_US = Number.MAX_SAFE_INTEGER;
const HALF_DAY_US = DAY_US / 2;

const UNFINISHED = ' <unfinished ...>';
const RESUMED = ' resumed>';
const MESSAGE_AT_END = /strace: Process \d+ (?:attached|detached)(?: with \d+ threads)?$/;
const CLONES = new Set(['clone', 'clone3', 'fork', 'vfork']);

// ---------------------------------------------------------------------------- line prefix

/** Results of parsePrefix (module state, to keep the hot path allocation-free). */
let pTid = -1;
let pTime = NaN;
let pTimeOfDay = false;
let pEnd = 0;

/**
 * Reads the optional tid column / `[pid N]` prefix and timestamp of a line. Returns false
 * when they are malformed.
 */
function parsePrefix(s: string): boolean {
  const n = s.length;
  let i = 0;
  pTid = -1;
  pTime = NaN;
  pTimeOfDay = false;
  let c = s.charCodeAt(0);
  if (c === LBRK && s.startsWith('[pid', 0)) {
    i = 4;
    while (s.charCodeAt(i) === SP) i++;
    const d0 = i;
    let v = 0;
    while (isDigit((c = s.charCodeAt(i)))) {
      v = v * 10 + (c - D0);
      i++;
    }
    if (i === d0 || c !== RBRK || s.charCodeAt(i + 1) !== SP || v > MAX_TID) return false;
    pTid = v;
    i += 2;
  } else if (isDigit(c)) {
    let v = 0;
    while (isDigit((c = s.charCodeAt(i)))) {
      v = v * 10 + (c - D0);
      i++;
    }
    if (c !== SP) i = 0; // a timestamp, not a tid
    else if (v > MAX_TID) return false;
    else pTid = v;
  }
  while (s.charCodeAt(i) === SP) i++;
  c = s.charCodeAt(i);
  if (isDigit(c)) {
    let a = 0;
    while (isDigit((c = s.charCodeAt(i)))) {
      a = a * 10 + (c - D0);
      i++;
    }
    let us: number;
    if (c === COLON) {
      const mm = twoDigits(s, i + 1);
      if (mm < 0 || s.charCodeAt(i + 3) !== COLON) return false;
      const ss = twoDigits(s, i + 4);
      if (ss < 0) return false;
      i += 6;
      us = ((a * 60 + mm) * 60 + ss) * 1e6;
      pTimeOfDay = true;
    } else if (c === DOT) {
      us = a * 1e6;
    } else {
      return false;
    }
    if (s.charCodeAt(i) === DOT) {
      i = parseFraction(s, i + 1);
      if (i < 0) return false;
      us += fracUs;
    }
    if (s.charCodeAt(i) !== SP || us > MAX_US) return false;
    pTime = us;
    while (s.charCodeAt(i) === SP) i++;
  }
  pEnd = i;
  return i < n;
}

function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i);
  const b = s.charCodeAt(i + 1);
  return isDigit(a) && isDigit(b) ? (a - D0) * 10 + (b - D0) : -1;
}

/** Result of parseFraction: the fraction's value in microseconds. */
let fracUs = 0;

/** Parses the digits of a fraction of a second at i; returns the index after them, -1 if none. */
function parseFraction(s: string, i: number): number {
  const start = i;
  let v = 0;
  let c: number;
  while (isDigit((c = s.charCodeAt(i))) && i - start < 15) {
    v = v * 10 + (c - D0);
    i++;
  }
  const k = i - start;
  if (k === 0 || isDigit(c)) return -1;
  fracUs = k <= 6 ? v * 10 ** (6 - k) : v / 10 ** (k - 6);
  return i;
}

/** The raw timestamp of a line in µs (NaN if none), for merging files. Uses parsePrefix. */
function rawTime(s: string): number {
  return s.length > 0 && parsePrefix(s) ? pTime : NaN;
}

// ---------------------------------------------------------------------------- scanning

const ERR = 0;
const CLOSED = 1;
const OPEN_UNFINISHED = 2;
const OPEN_DETACHED = 3;
const OPEN_PID_CHANGED = 4;

/** Results of scanArgs (parseResult calls it too, for annotations: read scanEnd before). */
let scanEnd = 0;
let scanOpen = '';
let scanErr = '';

/** The brackets open while scanning, innermost last. */
const MAX_NESTING = 1024;
const stack = new Uint8Array(MAX_NESTING);
const CLOSER = new Uint8Array(128);
CLOSER[LPAR] = RPAR;
CLOSER[LBRK] = RBRK;
CLOSER[LBRC] = RBRC;

/**
 * Scans argument text from i, with the brackets in `open` open (`(` just inside the call's
 * parenthesis), to the parenthesis closing the call (CLOSED, scanEnd at it) or to an end
 * of line marker (OPEN_*, scanEnd at its '<', scanOpen the brackets open there).
 */
function scanArgs(s: string, i: number, open: string): number {
  const n = s.length;
  let depth = open.length;
  for (let k = 0; k < depth; k++) stack[k] = open.charCodeAt(k);
  while (i < n) {
    const c = s.charCodeAt(i);
    if (SPECIAL[c] === 0) {
      i++;
      continue;
    }
    switch (c) {
      case QUOTE:
        i = skipString(s, i);
        if (i < 0) {
          scanErr = 'an unterminated string';
          return ERR;
        }
        continue;
      case LPAR:
      case LBRK:
      case LBRC:
        if (depth === MAX_NESTING) {
          scanErr = `brackets nested more than ${MAX_NESTING} deep`;
          return ERR;
        }
        stack[depth++] = c;
        i++;
        continue;
      case RPAR:
      case RBRK:
      case RBRC:
        if (CLOSER[stack[--depth]!] !== c) {
          scanErr = `'${String.fromCharCode(c)}' closing '${String.fromCharCode(stack[depth]!)}' at column ${i + 1}`;
          return ERR;
        }
        if (depth === 0) {
          scanEnd = i;
          return CLOSED;
        }
        i++;
        continue;
      case LT: {
        const marker = endMarker(s, i);
        if (marker !== ERR) {
          scanEnd = i;
          scanOpen = depth === 1 && stack[0] === LPAR ? '(' : String.fromCharCode(...stack.subarray(0, depth));
          return marker;
        }
        if (s.startsWith('<unfinished ...>', i)) {
          i += 16; // `<... x resumed> <unfinished ...>) = ?`
          continue;
        }
        if (s.charCodeAt(i + 1) === LT) {
          i += 2; // a shift, 1<<n
          continue;
        }
        const e = skipDecoration(s, i);
        if (e < 0) {
          scanErr = `${decorationError(e)} at column ${i + 1}`;
          return ERR;
        }
        i = e;
        continue;
      }
      case SLASH:
        if (s.charCodeAt(i + 1) === STAR) {
          const e = s.indexOf('*/', i + 2);
          if (e < 0) {
            scanErr = 'an unterminated /* comment';
            return ERR;
          }
          i = e + 2;
        } else {
          i++;
        }
        continue;
      default:
        i++;
    }
  }
  scanErr = `${depth} unclosed bracket${depth === 1 ? '' : 's'} at the end of the line`;
  return ERR;
}

/** Which marker ending a line, if any, starts at i ('<'): OPEN_* or ERR for none. */
function endMarker(s: string, i: number): number {
  const rest = s.length - i;
  if (rest === 16 && s.startsWith('<unfinished ...>', i)) return OPEN_UNFINISHED;
  if (rest === 14 && s.startsWith('<detached ...>', i)) return OPEN_DETACHED;
  if (rest > 20 && s.startsWith('<pid changed to ', i) && s.endsWith(' ...>')) return OPEN_PID_CHANGED;
  return ERR;
}

/** Index after the string starting with the quote at i, or -1 if it does not end. */
function skipString(s: string, i: number): number {
  let q = s.indexOf('"', i + 1);
  while (q >= 0) {
    // escaped if preceded by an odd number of backslashes
    let b = q - 1;
    while (s.charCodeAt(b) === BSL) b--;
    if (((q - 1 - b) & 1) === 0) return q + 1;
    q = s.indexOf('"', q + 1);
  }
  return -1;
}

/** Decorations nested deeper than this are malformed (strace nests at most a device in a path). */
const MAX_DECORATION_NESTING = 64;
/** Per open decoration, innermost last: a path (1) or typed (0), and its open `[` count. */
const decoPath = new Uint8Array(MAX_DECORATION_NESTING);
const decoBrackets = new Int32Array(MAX_DECORATION_NESTING);

/**
 * Index after the decoration starting with the '<' at i, -1 if it does not end, -2 if it
 * nests more than MAX_DECORATION_NESTING deep. Nested decorations are kept on a stack, not
 * by recursion: a line of thousands of '<' must not overflow the call stack.
 */
function skipDecoration(s: string, i: number): number {
  const n = s.length;
  // a path ('<' '/'): '<' and '>' in it are escaped, a nested '<' is a device decoration;
  // typed (`TCP:[…]`, …): quoted strings and `[…]` are skipped, so `->` ends nothing
  decoPath[0] = s.charCodeAt(i + 1) === SLASH ? 1 : 0;
  decoBrackets[0] = 0;
  let depth = 1;
  let j = i + 1;
  while (j < n) {
    const c = s.charCodeAt(j);
    const d = depth - 1;
    if (c === BSL) {
      j += 2;
      continue;
    }
    if (decoPath[d] === 0) {
      if (c === QUOTE) {
        j = skipString(s, j);
        if (j < 0) return -1;
        continue;
      }
      if (c === LBRK) {
        decoBrackets[d]++;
        j++;
        continue;
      }
      if (c === RBRK) {
        decoBrackets[d]--;
        j++;
        continue;
      }
      if (decoBrackets[d]! > 0) {
        j++;
        continue;
      }
    }
    if (c === GT) {
      j++;
      if (--depth === 0) return j;
    } else if (c === LT) {
      if (depth === MAX_DECORATION_NESTING) return -2;
      decoPath[depth] = s.charCodeAt(j + 1) === SLASH ? 1 : 0;
      decoBrackets[depth] = 0;
      depth++;
      j++;
    } else {
      j++;
    }
  }
  return -1;
}

function decorationError(code: number): string {
  return code === -2 ? `a <...> nested more than ${MAX_DECORATION_NESTING} deep` : 'an unterminated <...>';
}

/** Index after the parenthesised group starting at i, or -1. */
function skipGroup(s: string, i: number): number {
  const r = scanArgs(s, i + 1, '(');
  return r === CLOSED ? scanEnd + 1 : -1;
}

/** Results of parseResult. */
let rText = '';
let rVal: number | undefined;
let rErrno: string | undefined;
let rDur: number | undefined;
let rErr = '';

/** Parses ` = result [<duration>]` from i (just after the closing parenthesis). */
function parseResult(s: string, i: number): boolean {
  const n = s.length;
  while (s.charCodeAt(i) === SP) i++;
  if (s.charCodeAt(i) !== 61 /* = */ || s.charCodeAt(i + 1) !== SP) {
    rErr = "expected ' = ' and a result after the arguments";
    return false;
  }
  i += 2;
  while (s.charCodeAt(i) === SP) i++;
  const v0 = i;
  let c = s.charCodeAt(i);
  rVal = undefined;
  rErrno = undefined;
  rDur = undefined;
  if (c === QMARK) {
    i++;
  } else {
    if (c === MINUS) c = s.charCodeAt(++i);
    const d0 = i;
    if (c === D0 && (s.charCodeAt(i + 1) | 32) === 120 /* x */) {
      i += 2;
      while (isHex(s.charCodeAt(i))) i++;
      if (i === d0 + 2) {
        rErr = 'expected hex digits after 0x in the result';
        return false;
      }
    } else {
      while (isDigit(s.charCodeAt(i))) i++;
      if (i === d0) {
        rErr = `expected a return value after '= ', got '${s.slice(v0, v0 + 20)}'`;
        return false;
      }
    }
    const digits = s.slice(v0, i);
    rVal = digits.length > 1 && s.charCodeAt(d0) === D0 && (s.charCodeAt(d0 + 1) | 32) !== 120 ? parseInt(digits, 8) : Number(digits);
    // at most 64 bits (2^64 - 1 rounds to 2^64); also rejects NaN
    if (!(Math.abs(rVal) <= 2 ** 64)) {
      rErr = `expected a 64-bit number as the result, got '${digits.length > 30 ? `${digits.slice(0, 30)}…` : digits}'`;
      return false;
    }
  }
  if (s.charCodeAt(i) === LT && !s.startsWith('<unavailable>', i)) {
    const e = skipDecoration(s, i);
    if (e < 0) {
      rErr = `${decorationError(e)} after the result`;
      return false;
    }
    i = e;
  }
  let textEnd = i;
  while (i < n) {
    if (s.charCodeAt(i) !== SP) {
      rErr = `unexpected '${s.slice(i, i + 20)}' after the result`;
      return false;
    }
    while (s.charCodeAt(i) === SP) i++;
    if (i >= n) break;
    c = s.charCodeAt(i);
    if (c === LPAR) {
      const e = skipGroup(s, i);
      if (e < 0) {
        rErr = 'an unterminated ( after the result';
        return false;
      }
      i = e;
      textEnd = i;
    } else if (c >= 65 && c <= 90 && rErrno === undefined) {
      const e0 = i;
      while (i < n && NAME_CHAR[s.charCodeAt(i)] === 1) i++;
      rErrno = s.slice(e0, i);
      textEnd = i;
    } else if (c === LT && s.startsWith('<unavailable>', i)) {
      i += 13;
      textEnd = i;
    } else if (c === LT && isDigit(s.charCodeAt(i + 1))) {
      // the -T duration, last on the line
      let a = 0;
      let j = i + 1;
      while (isDigit((c = s.charCodeAt(j)))) {
        a = a * 10 + (c - D0);
        j++;
      }
      let us = a * 1e6;
      if (c === DOT) {
        j = parseFraction(s, j + 1);
        if (j < 0) {
          rErr = 'a malformed <duration>';
          return false;
        }
        us += fracUs;
      }
      if (s.charCodeAt(j) !== GT || j + 1 !== n) {
        rErr = 'a malformed <duration> (or text after it)';
        return false;
      }
      if (us > MAX_US) {
        rErr = 'a <duration> beyond 2^53 µs';
        return false;
      }
      rDur = us;
      i = n;
    } else {
      rErr = `unexpected '${s.slice(i, i + 20)}' after the result`;
      return false;
    }
  }
  rText = s.slice(v0, textEnd);
  return true;
}

function isHex(c: number): boolean {
  return (c >= D0 && c <= D9) || ((c | 32) >= 97 && (c | 32) <= 102);
}

// ---------------------------------------------------------------------------- parser

/** Per input file state. */
export interface StraceSource {
  file: string;
  /** Tid of lines without one. */
  tid: number;
  /** Time-of-day handling: days added, last time of day seen. */
  dayUs: number;
  lastTodUs: number;
  /** A line cut by an strace message, waiting for its rest. */
  partial: string | undefined;
  partialLine: number;
}

export function newSource(file: string, tid: number): StraceSource {
  return { file, tid, dayUs: 0, lastTodUs: -Infinity, partial: undefined, partialLine: 0 };
}

/** The tid in a `-ff` file name (`PREFIX.TID`, optionally `.gz` / `.xz`), or undefined. */
export function tidFromFileName(file: string): number | undefined {
  const m = /\.(\d+)(?:\.gz|\.xz)?$/.exec(file);
  return m ? Number(m[1]) : undefined;
}

interface Pending {
  tid: number;
  name: string;
  args: string;
  /** Brackets open at the end of the first half. */
  open: string;
  timeUs: number | undefined;
  file: string;
  line: number;
}

/**
 * The line-level parser: feed it lines in trace order, take the events it completes. Use
 * readStrace for files; this is for text from elsewhere.
 */
export class StraceParser {
  readonly stats: StraceStats;
  private readonly lenient: boolean;
  private readonly pending = new Map<number, Pending>();
  /** Leader tids superseded by an execve whose start is not in the input. */
  private readonly orphanExec = new Map<number, number>();

  constructor(options: StraceOptions = {}, stats: StraceStats = emptyStats()) {
    this.lenient = options.lenient ?? false;
    this.stats = stats;
  }

  /** Parses one line (without its newline); completed events are pushed onto `out`. */
  line(text: string, lineNo: number, src: StraceSource, out: StraceEvent[]): void {
    this.stats.lines++;
    if (src.partial !== undefined) {
      text = src.partial + text;
      lineNo = src.partialLine;
      src.partial = undefined;
    }
    const n = text.length;
    if (n === 0) return;
    const last = text.charCodeAt(n - 1);
    if (last === 100 /* d */ || last === 115 /* s */) {
      const m = MESSAGE_AT_END.exec(text);
      if (m !== null) {
        this.stats.messages++;
        if (m.index > 0) {
          src.partial = text.slice(0, m.index);
          src.partialLine = lineNo;
        }
        return;
      }
    }
    if (text.charCodeAt(0) === 115 /* s */ && text.startsWith('strace: ')) {
      this.stats.messages++;
      return;
    }
    if (text.charCodeAt(0) === SP && text.trim().length === 0) return;
    if (!parsePrefix(text)) {
      this.bad(src, lineNo, text, 'expected [tid] [timestamp] and a call, signal or exit');
      return;
    }
    const tid = pTid >= 0 ? pTid : src.tid;
    let timeUs: number | undefined;
    if (!Number.isNaN(pTime)) {
      if (pTimeOfDay) {
        if (pTime + HALF_DAY_US < src.lastTodUs) src.dayUs += DAY_US;
        src.lastTodUs = pTime;
        timeUs = pTime + src.dayUs;
      } else {
        timeUs = pTime;
      }
    }
    const i = pEnd;
    const c = text.charCodeAt(i);
    if (c === LT) this.resumed(text, i, tid, timeUs, lineNo, src, out);
    else if (c === MINUS) this.signal(text, i, tid, timeUs, lineNo, src, out);
    else if (c === 43 /* + */) this.exit(text, i, tid, timeUs, lineNo, src, out);
    else if (c < 128 && NAME_CHAR[c] === 1) this.call(text, i, tid, timeUs, lineNo, src, out);
    else if (text.startsWith('[ Process PID=', i)) this.stats.messages++;
    else this.bad(src, lineNo, text, 'expected a call, <... resumed>, --- signal --- or +++ exit +++');
  }

  /** End of one source: a line left cut by an strace message is parsed as it is. */
  finishSource(src: StraceSource, out: StraceEvent[]): void {
    if (src.partial === undefined) return;
    this.stats.lines--; // line() counts the physical line it is given; this one was counted
    this.line('', src.partialLine, src, out);
  }

  /** End of input: calls still unfinished are pushed as pending, in order of their start. */
  end(out: StraceEvent[]): void {
    const rest = [...this.pending.values()];
    this.pending.clear();
    rest.sort((a, b) => (a.timeUs ?? 0) - (b.timeUs ?? 0) || a.line - b.line);
    for (const p of rest) out.push(pendingEvent(p, false));
  }

  private call(s: string, i: number, tid: number, timeUs: number | undefined, lineNo: number, src: StraceSource, out: StraceEvent[]): void {
    const n0 = i;
    while (i < s.length && s.charCodeAt(i) < 128 && NAME_CHAR[s.charCodeAt(i)] === 1) i++;
    if (s.charCodeAt(i) !== LPAR) {
      this.bad(src, lineNo, s, `expected '(' after the call name '${s.slice(n0, i)}'`);
      return;
    }
    const name = s.slice(n0, i);
    const prev = this.pending.get(tid);
    if (prev !== undefined) {
      if (!this.bad(src, lineNo, s, `tid ${tid} starts ${name} while its ${prev.name} of line ${prev.line} is unfinished`)) return;
      this.pending.delete(tid);
      out.push(pendingEvent(prev, false));
    }
    const a0 = i + 1;
    const r = scanArgs(s, a0, '(');
    if (r === ERR) {
      this.bad(src, lineNo, s, `${scanErr} in the arguments of ${name}`);
      return;
    }
    if (r === CLOSED) {
      const close = scanEnd; // parseResult scans annotations, `(flags …)`, with scanArgs too
      if (!parseResult(s, close + 1)) {
        this.bad(src, lineNo, s, `${rErr} (${name})`);
        return;
      }
      out.push(complete(tid, name, stripMarker(s.slice(a0, close)), timeUs, src.file, lineNo));
      return;
    }
    const p: Pending = { tid, name, args: headArgs(s, a0, scanEnd), open: scanOpen, timeUs, file: src.file, line: lineNo };
    if (r === OPEN_DETACHED) out.push(pendingEvent(p, true));
    else this.pending.set(tid, p);
  }

  private resumed(s: string, i: number, tid: number, timeUs: number | undefined, lineNo: number, src: StraceSource, out: StraceEvent[]): void {
    if (!s.startsWith('<... ', i)) {
      this.bad(src, lineNo, s, "expected '<... NAME resumed>'");
      return;
    }
    const n0 = i + 5;
    let j = n0;
    while (j < s.length && s.charCodeAt(j) < 128 && NAME_CHAR[s.charCodeAt(j)] === 1) j++;
    if (j === n0 || !s.startsWith(RESUMED, j)) {
      this.bad(src, lineNo, s, "expected '<... NAME resumed>'");
      return;
    }
    const name = s.slice(n0, j);
    const other = this.pending.get(tid);
    if (other !== undefined && other.name !== name) {
      this.bad(src, lineNo, s, `<... ${name} resumed> but the unfinished call of tid ${tid} is ${other.name} (line ${other.line})`);
      return;
    }
    const p = this.takePending(tid, name);
    if (p === undefined) {
      const by = this.orphanExec.get(tid);
      const why =
        by !== undefined && name === 'execve'
          ? ` (the execve started in pid ${by}, whose lines are not in the input: give all the -ff files together)`
          : '';
      this.bad(src, lineNo, s, `<... ${name} resumed> without an unfinished ${name} of tid ${tid}${why}`);
      return;
    }
    this.orphanExec.delete(tid);
    const a0 = j + RESUMED.length;
    const r = scanArgs(s, a0, p.open);
    if (r === ERR) {
      this.pending.set(p.tid, p);
      this.bad(src, lineNo, s, `${scanErr} in the arguments of ${name}`);
      return;
    }
    if (r === CLOSED) {
      const close = scanEnd; // see call()
      if (!parseResult(s, close + 1)) {
        this.pending.set(p.tid, p);
        this.bad(src, lineNo, s, `${rErr} (${name})`);
        return;
      }
      let tail = s.slice(a0, close);
      if (tail.startsWith(UNFINISHED)) tail = tail.slice(UNFINISHED.length);
      out.push(complete(p.tid, name, stripMarker(p.args + tail), p.timeUs, p.file, p.line));
      return;
    }
    p.args += headArgs(s, a0, scanEnd);
    p.open = scanOpen;
    if (r === OPEN_DETACHED) out.push(pendingEvent(p, true));
    else this.pending.set(p.tid, p);
  }

  /** The unfinished call a resumed half of `tid` completes (see the module comment on tid 0). */
  private takePending(tid: number, name: string): Pending | undefined {
    let p = this.pending.get(tid);
    if (p !== undefined) {
      if (p.name !== name) return undefined;
      this.pending.delete(tid);
      return p;
    }
    if (tid !== 0) {
      p = this.pending.get(0);
      if (p === undefined || p.name !== name) return undefined;
      this.pending.delete(0);
      p.tid = tid;
      return p;
    }
    let found: Pending | undefined;
    let key = 0;
    for (const [k, q] of this.pending) {
      if (q.name !== name) continue;
      if (found !== undefined) return undefined; // ambiguous
      found = q;
      key = k;
    }
    if (found !== undefined) this.pending.delete(key);
    return found;
  }

  private signal(s: string, i: number, tid: number, timeUs: number | undefined, lineNo: number, src: StraceSource, out: StraceEvent[]): void {
    if (!s.startsWith('--- ', i) || !s.endsWith(' ---') || s.length - i < 11) {
      this.bad(src, lineNo, s, "expected '--- SIGNAME {...} ---'");
      return;
    }
    const inner = s.slice(i + 4, s.length - 4);
    let stopped = false;
    let signal: string;
    let info = '';
    if (inner.startsWith('stopped by ')) {
      stopped = true;
      signal = inner.slice(11);
    } else {
      const sp = inner.indexOf(' ');
      signal = sp < 0 ? inner : inner.slice(0, sp);
      info = sp < 0 ? '' : inner.slice(sp + 1);
    }
    if (!/^(?:SIG[A-Z0-9_+-]+|\d+)$/.test(signal)) {
      this.bad(src, lineNo, s, `expected a signal name, got '${signal.slice(0, 20)}'`);
      return;
    }
    out.push({ type: 'signal', tid, timeUs, file: src.file, line: lineNo, signal, info, stopped });
  }

  private exit(s: string, i: number, tid: number, timeUs: number | undefined, lineNo: number, src: StraceSource, out: StraceEvent[]): void {
    if (!s.startsWith('+++ ', i) || !s.endsWith(' +++') || s.length - i < 9) {
      this.bad(src, lineNo, s, "expected '+++ exited with N +++', '+++ killed by SIG… +++' or '+++ superseded by execve in pid N +++'");
      return;
    }
    const inner = s.slice(i + 4, s.length - 4);
    let m: RegExpExecArray | null;
    let ev: StraceEvent;
    if ((m = /^exited with (-?\d{1,10})$/.exec(inner)) !== null) {
      ev = { type: 'exit', tid, timeUs, file: src.file, line: lineNo, code: Number(m[1]) };
    } else if ((m = /^killed by (SIG[A-Z0-9_+-]+|\d+)( \(core dumped\))?$/.exec(inner)) !== null) {
      ev = { type: 'kill', tid, timeUs, file: src.file, line: lineNo, signal: m[1]!, coreDumped: m[2] !== undefined };
    } else if ((m = /^superseded by execve in pid (\d{1,10})$/.exec(inner)) !== null && Number(m[1]) <= MAX_TID) {
      const by = Number(m[1]);
      ev = { type: 'superseded', tid, timeUs, file: src.file, line: lineNo, by };
      const own = this.pending.get(tid);
      if (own !== undefined && by !== tid) {
        this.pending.delete(tid);
        out.push(pendingEvent(own, false));
      }
      const exec = this.pending.get(by);
      if (exec !== undefined && exec.name === 'execve') {
        this.pending.delete(by);
        this.pending.set(tid, exec);
      } else if (by !== tid) {
        this.orphanExec.set(tid, by);
      }
      out.push(ev);
      return;
    } else {
      this.bad(src, lineNo, s, `expected 'exited with N', 'killed by SIG…' or 'superseded by execve in pid N', got '${inner.slice(0, 40)}'`);
      return;
    }
    const p = this.pending.get(tid);
    if (p !== undefined) {
      this.pending.delete(tid);
      out.push(pendingEvent(p, false));
    }
    out.push(ev);
  }

  /**
   * A malformed line: throws, or in lenient mode counts it and returns true (the caller
   * then recovers as it can, or returns).
   */
  private bad(src: StraceSource, lineNo: number, text: string, detail: string): boolean {
    const shown = text.length > 100 ? `${text.slice(0, 100)}…` : text;
    const full = `${detail}: ${shown}`;
    if (!this.lenient) throw new FileInputError(src.file, lineNo, full);
    this.stats.malformed++;
    if (this.stats.malformedExamples.length < MAX_EXAMPLES) {
      this.stats.malformedExamples.push({ file: src.file, line: lineNo, detail: full });
    }
    return true;
  }
}

/** Argument text before an end-of-line marker, without the one space strace puts before it. */
function headArgs(s: string, a0: number, markerAt: number): string {
  return s.slice(a0, markerAt > a0 && s.charCodeAt(markerAt - 1) === SP ? markerAt - 1 : markerAt);
}

/** Drops a trailing ` <unfinished ...>` (a call cut short by an execve). */
function stripMarker(args: string): string {
  return args.endsWith(UNFINISHED) ? args.slice(0, -UNFINISHED.length) : args;
}

function complete(tid: number, name: string, args: string, timeUs: number | undefined, file: string, line: number): SyscallEvent {
  let restarted: string | undefined;
  if (name === 'restart_syscall') {
    const m = /^<\.\.\. resuming interrupted ([A-Za-z0-9_]+) \.\.\.>$/.exec(args);
    if (m !== null) restarted = m[1];
  }
  const retval = rVal;
  return {
    type: 'syscall',
    tid,
    timeUs,
    file,
    line,
    name,
    args,
    retText: rText,
    retval,
    errno: rErrno,
    durationUs: rDur,
    pending: false,
    detached: false,
    restarted,
    child: retval !== undefined && retval > 0 && retval <= MAX_TID && CLONES.has(name) ? retval : undefined,
  };
}

function pendingEvent(p: Pending, detached: boolean): SyscallEvent {
  return {
    type: 'syscall',
    tid: p.tid,
    timeUs: p.timeUs,
    file: p.file,
    line: p.line,
    name: p.name,
    args: p.args,
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

// ---------------------------------------------------------------------------- reading files

/**
 * The events of one strace output file, or of several (`-ff`) merged; see the module
 * comment. Iterate it once for events, or use batches() for arrays of them (faster).
 * `stats` is filled in as it goes.
 */
export class StraceReader implements AsyncIterable<StraceEvent> {
  readonly files: readonly string[];
  stats: StraceStats = emptyStats();

  constructor(
    files: string | readonly string[],
    readonly options: StraceOptions = {},
  ) {
    this.files = typeof files === 'string' ? [files] : [...files];
    if (this.files.length === 0) throw new Error('StraceReader: no files');
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<StraceEvent> {
    for await (const batch of this.batches()) yield* batch;
  }

  /** Events in arrays (each array is new; keep them if you like). */
  async *batches(): AsyncGenerator<StraceEvent[]> {
    const stats = (this.stats = emptyStats());
    stats.files = this.files.length;
    const parser = new StraceParser(this.options, stats);
    if (this.files.length === 1) yield* this.single(parser);
    else yield* this.merged(parser);
  }

  private source(file: string): StraceSource {
    return newSource(file, this.options.tid ?? tidFromFileName(file) ?? 0);
  }

  private async *single(parser: StraceParser): AsyncGenerator<StraceEvent[]> {
    const file = this.files[0]!;
    yield* parseLineArrays(parser, this.source(file), readLines(file, this.lineOptions(DEFAULT_CHUNK), this.stats));
  }

  private lineOptions(chunk: number) {
    return { chunkSize: this.options.chunkSize ?? chunk, maxLineChars: this.options.maxLineChars };
  }

  private async *merged(parser: StraceParser): AsyncGenerator<StraceEvent[]> {
    const counters: LineCounters = this.stats;
    const heads: Head[] = [];
    for (let k = 0; k < this.files.length; k++) {
      const file = this.files[k]!;
      const head: Head = {
        order: k,
        src: this.source(file),
        it: readLines(file, this.lineOptions(64 << 10), counters)[Symbol.asyncIterator](),
        lines: [],
        idx: 0,
        lineNo: 0,
        key: -Infinity,
        keySrc: newSource(file, 0),
      };
      if (await refill(head)) heads.push(head);
    }
    const all = [...heads];
    try {
      const heap = new MinHeap(heads);
      let out: StraceEvent[] = [];
      while (heap.size > 0) {
        const h = heap.top();
        parser.line(h.lines[h.idx]!, ++h.lineNo, h.src, out);
        h.idx++;
        if (h.idx < h.lines.length) {
          nextKey(h);
          heap.siftDown(0);
        } else if (await refill(h)) {
          heap.siftDown(0);
        } else {
          parser.finishSource(h.src, out);
          heap.pop();
        }
        if (out.length >= 4096) {
          yield out;
          out = [];
        }
      }
      parser.end(out);
      if (out.length > 0) yield out;
    } finally {
      // close the files still open (after an error, or when the consumer stops early)
      await Promise.all(all.map((h) => h.it.return?.(undefined)));
    }
  }
}

/** Parses arrays of consecutive lines (the first is line 1) as one source, to the end of the input. */
async function* parseLineArrays(parser: StraceParser, src: StraceSource, arrays: AsyncIterable<string[]>): AsyncGenerator<StraceEvent[]> {
  let lineNo = 0;
  for await (const lines of arrays) {
    const out: StraceEvent[] = [];
    for (let k = 0; k < lines.length; k++) parser.line(lines[k]!, ++lineNo, src, out);
    if (out.length > 0) yield out;
  }
  const out: StraceEvent[] = [];
  parser.finishSource(src, out);
  parser.end(out);
  if (out.length > 0) yield out;
}

/**
 * Events of strace output arriving as bytes from anywhere (a pipe, a socket, a generator),
 * in arrays, exactly as readStrace parses one file: chunks may split lines anywhere, bytes
 * are latin1, "\r\n" ends a line too. `options.file` names the input in errors (default
 * `<stream>`); `stats` (bytes, lines, malformed, …) is updated as it goes.
 */
export function parseStraceStream(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: StraceOptions & { file?: string } = {},
  stats: StraceStats = emptyStats(),
): AsyncGenerator<StraceEvent[]> {
  const file = options.file ?? '<stream>';
  stats.files = 1;
  const parser = new StraceParser(options, stats);
  const src = newSource(file, options.tid ?? 0);
  const lineOptions = { maxLineChars: options.maxLineChars };
  const counters: LineCounters = stats;
  return parseLineArrays(parser, src, splitLines(chunks, file, lineOptions, counters));
}

interface Head {
  order: number;
  src: StraceSource;
  it: AsyncIterator<string[]>;
  lines: string[];
  idx: number;
  lineNo: number;
  /** Timestamp of lines[idx] (the previous one's when it has none). */
  key: number;
  /** Day tracking for keys, kept apart from the parser's. */
  keySrc: StraceSource;
}

async function refill(h: Head): Promise<boolean> {
  const r = await h.it.next();
  if (r.done) return false;
  h.lines = r.value;
  h.idx = 0;
  nextKey(h);
  return true;
}

function nextKey(h: Head): void {
  const t = rawTime(h.lines[h.idx]!);
  if (Number.isNaN(t)) return; // keep the previous key
  if (pTimeOfDay) {
    if (t + HALF_DAY_US < h.keySrc.lastTodUs) h.keySrc.dayUs += DAY_US;
    h.keySrc.lastTodUs = t;
    h.key = t + h.keySrc.dayUs;
  } else {
    h.key = t;
  }
}

/** A binary min-heap of heads by (key, order). */
class MinHeap {
  constructor(private readonly a: Head[]) {
    for (let i = (a.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }
  get size(): number {
    return this.a.length;
  }
  top(): Head {
    return this.a[0]!;
  }
  pop(): void {
    const last = this.a.pop()!;
    if (this.a.length > 0) {
      this.a[0] = last;
      this.siftDown(0);
    }
  }
  siftDown(i: number): void {
    const a = this.a;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      let m = l;
      if (l + 1 < n && less(a[l + 1]!, a[l]!)) m = l + 1;
      if (!less(a[m]!, a[i]!)) return;
      const t = a[i]!;
      a[i] = a[m]!;
      a[m] = t;
      i = m;
    }
  }
}

function less(x: Head, y: Head): boolean {
  return x.key < y.key || (x.key === y.key && x.order < y.order);
}

/** Events of strace output file(s); see StraceReader. */
export function readStrace(files: string | readonly string[], options: StraceOptions = {}): StraceReader {
  return new StraceReader(files, options);
}

/** Parses strace text held in memory (tests, small snippets). */
export function parseStraceText(
  text: string,
  options: StraceOptions & { file?: string } = {},
): { events: StraceEvent[]; stats: StraceStats } {
  const file = options.file ?? '<text>';
  const stats = emptyStats();
  stats.files = 1;
  stats.bytes = text.length;
  const parser = new StraceParser(options, stats);
  const src = newSource(file, options.tid ?? tidFromFileName(file) ?? 0);
  const events: StraceEvent[] = [];
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((l, k) => parser.line(l.endsWith('\r') ? l.slice(0, -1) : l, k + 1, src, events));
  parser.finishSource(src, events);
  parser.end(events);
  return { events, stats };
}

// ---------------------------------------------------------------------------- summary

export interface SyscallTally {
  /** Calls that entered the kernel in the trace (completed, pending and detached). */
  calls: number;
  /** Calls with an errno in their result (ERESTART* included). */
  errors: number;
  /** Calls never seen to return. */
  pending: number;
  /** Sum of -T durations of the calls that have one, µs. */
  durationUs: number;
  /** Calls with a -T duration. */
  timed: number;
}

export interface StraceSummary {
  /** Per syscall name. */
  syscalls: Map<string, SyscallTally>;
  /** Sum of `calls` over all names. */
  calls: number;
  pending: number;
  errors: number;
  /** Signal deliveries (not stops) per signal name. */
  signals: Map<string, number>;
  exits: number;
  kills: number;
  superseded: number;
  /** Distinct tids seen. */
  tids: number;
  /** Earliest and latest timestamps (µs), undefined without timestamps. */
  firstUs: number | undefined;
  lastUs: number | undefined;
  stats: StraceStats;
}

/** Accumulates a StraceSummary from events. */
export class StraceTally {
  private readonly s: StraceSummary = {
    syscalls: new Map(),
    calls: 0,
    pending: 0,
    errors: 0,
    signals: new Map(),
    exits: 0,
    kills: 0,
    superseded: 0,
    tids: 0,
    firstUs: undefined,
    lastUs: undefined,
    stats: emptyStats(),
  };
  private readonly tidSet = new Set<number>();

  add(ev: StraceEvent): void {
    const s = this.s;
    this.tidSet.add(ev.tid);
    const t = ev.timeUs;
    if (t !== undefined) {
      if (s.firstUs === undefined || t < s.firstUs) s.firstUs = t;
      const end = ev.type === 'syscall' && ev.durationUs !== undefined ? t + ev.durationUs : t;
      if (s.lastUs === undefined || end > s.lastUs) s.lastUs = end;
    }
    switch (ev.type) {
      case 'syscall': {
        let c = s.syscalls.get(ev.name);
        if (c === undefined) {
          c = { calls: 0, errors: 0, pending: 0, durationUs: 0, timed: 0 };
          s.syscalls.set(ev.name, c);
        }
        c.calls++;
        s.calls++;
        if (ev.pending) {
          c.pending++;
          s.pending++;
        }
        if (ev.errno !== undefined) {
          c.errors++;
          s.errors++;
        }
        if (ev.durationUs !== undefined) {
          c.durationUs += ev.durationUs;
          c.timed++;
        }
        break;
      }
      case 'signal':
        if (!ev.stopped) s.signals.set(ev.signal, (s.signals.get(ev.signal) ?? 0) + 1);
        break;
      case 'exit':
        s.exits++;
        break;
      case 'kill':
        s.kills++;
        break;
      case 'superseded':
        s.superseded++;
        break;
    }
  }

  summary(stats: StraceStats = emptyStats()): StraceSummary {
    return { ...this.s, tids: this.tidSet.size, stats };
  }
}

/** Counts the calls (and signals, exits, …) of strace output file(s) in one pass. */
export async function summarizeStrace(files: string | readonly string[], options: StraceOptions = {}): Promise<StraceSummary> {
  const reader = readStrace(files, options);
  const tally = new StraceTally();
  for await (const batch of reader.batches()) for (const ev of batch) tally.add(ev);
  return tally.summary(reader.stats);
}

/** A summary as plain JSON data, syscalls sorted by count (then name). */
export function summaryToJSON(s: StraceSummary): Record<string, unknown> {
  const syscalls = [...s.syscalls.entries()].sort((a, b) => b[1].calls - a[1].calls || (a[0] < b[0] ? -1 : 1));
  return {
    calls: s.calls,
    pending: s.pending,
    errors: s.errors,
    syscalls: Object.fromEntries(syscalls),
    signals: Object.fromEntries([...s.signals.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
    exits: s.exits,
    kills: s.kills,
    superseded: s.superseded,
    tids: s.tids,
    firstUs: s.firstUs,
    lastUs: s.lastUs,
    stats: s.stats,
  };
}
