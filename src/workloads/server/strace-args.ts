/**
 * Small helpers over the text of one parsed strace call (`SyscallEvent.args` / `retText`):
 * split the argument list, name the kind of an fd from its `-yy` decoration, and decode a
 * C string literal into bytes. They read fields of events the project's parser
 * (src/workloads/trace/strace.ts) produced; they parse no trace lines themselves.
 */

/**
 * The argument text of a call. Works around a parser quirk (src/workloads/trace/strace.ts
 * at the time of writing): when the result carries a parenthesised part — an errno's
 * message `-1 EAGAIN (Resource temporarily unavailable)`, `(flags O_RDWR)`, poll's
 * `([{fd=3, revents=POLLIN}])` — the module-level end index of the argument scan is
 * overwritten while the result is parsed, so `args` ends with `) = ` and the result up
 * to its last `)`. That suffix is removed here; once the parser is fixed this returns
 * `args` unchanged.
 */
export function argsOf(ev: { args: string; retText: string }): string {
  const rt = ev.retText;
  if (rt.endsWith(')')) {
    const suffix = `) = ${rt.slice(0, -1)}`;
    if (ev.args.endsWith(suffix)) return ev.args.slice(0, -suffix.length);
  }
  return ev.args;
}

/**
 * Splits argument text at the commas between arguments: commas inside strings, `()[]{}`,
 * `/* comments *\/` and `<…>` fd decorations do not count.
 */
export function splitArgs(args: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  const n = args.length;
  let i = 0;
  while (i < n) {
    const c = args[i]!;
    if (c === '"') {
      i = skipQuoted(args, i);
      continue;
    }
    if (c === '/' && args[i + 1] === '*') {
      const e = args.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
      continue;
    }
    if (c === '<' && i > 0 && /[0-9A-Z]/.test(args[i - 1]!)) {
      i = skipDecoration(args, i);
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(args.slice(start, i).trim());
      start = i + 1;
    }
    i++;
  }
  const last = args.slice(start).trim();
  if (last !== '' || out.length > 0) out.push(last);
  return out;
}

function skipQuoted(s: string, i: number): number {
  let j = i + 1;
  while (j < s.length) {
    const c = s[j]!;
    if (c === '\\') j += 2;
    else if (c === '"') return j + 1;
    else j++;
  }
  return s.length;
}

/** Index after the `<…>` decoration starting at i (nested `<>`, `[…]` with `->`, quoted paths). */
function skipDecoration(s: string, i: number): number {
  let depth = 0;
  let brackets = 0;
  let j = i;
  while (j < s.length) {
    const c = s[j]!;
    if (c === '\\') j += 2;
    else if (c === '"') j = skipQuoted(s, j);
    else {
      if (c === '[') brackets++;
      else if (c === ']') brackets--;
      else if (c === '<' && brackets <= 0) depth++;
      else if (c === '>' && brackets <= 0) {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
  }
  return s.length;
}

/** The decoration of an fd argument (`43<TCP:[…]>` → `TCP:[…]`), or undefined when it has none. */
export function decorationOf(arg: string): string | undefined {
  const m = /^(?:-?\d+|AT_FDCWD)<([\s\S]*)>$/.exec(arg.trim());
  return m ? m[1] : undefined;
}

/**
 * The kind of file an fd decoration names: `TCP` (a connection, `a->b`), `TCP listen`,
 * `UDP`, `UNIX`, `pipe`, `eventpoll`, `eventfd`, … (anon inodes by their name), `socket`,
 * `char` (a device), `cwd` (AT_FDCWD) or `file` (any other path: regular files; -yy does
 * not tell a directory from a file).
 */
export function fdKindOfDecoration(dec: string, atFdCwd = false): string {
  if (atFdCwd) return 'cwd';
  if (dec.startsWith('/')) return /<char \d+:\d+>$/.test(dec) ? 'char' : /<block \d+:\d+>$/.test(dec) ? 'block' : 'file';
  const m = /^([A-Za-z0-9_-]+):/.exec(dec);
  if (!m) return 'other';
  const proto = m[1]!;
  if (proto === 'TCP' || proto === 'TCPv6') return dec.includes('->') ? 'TCP' : 'TCP listen';
  if (proto === 'UDP' || proto === 'UDPv6') return 'UDP';
  if (proto.startsWith('UNIX')) return 'UNIX';
  if (proto === 'anon_inode') {
    const a = /^anon_inode:\[?([A-Za-z0-9_-]+)\]?/.exec(dec);
    return a ? a[1]! : 'anon_inode';
  }
  if (proto === 'pipe') return 'pipe';
  if (proto === 'socket') return 'socket';
  if (proto.startsWith('NETLINK')) return 'netlink';
  return proto;
}

/** The fd kind of an argument (`none` when it carries no decoration). */
export function fdKindOfArg(arg: string | undefined): string {
  if (arg === undefined) return 'none';
  const dec = decorationOf(arg);
  if (dec === undefined) return 'none';
  return fdKindOfDecoration(dec, arg.trim().startsWith('AT_FDCWD'));
}

/** The last path component of a path decoration (`12</x/y/ib_logfile0>` → `ib_logfile0`), else undefined. */
export function baseNameOfArg(arg: string | undefined): string | undefined {
  if (arg === undefined) return undefined;
  const dec = decorationOf(arg);
  if (dec === undefined || !dec.startsWith('/')) return undefined;
  const path = dec.replace(/<[^<>]*>$/, '');
  const parts = path.split('/');
  return parts[parts.length - 1] || '/';
}

/**
 * The bytes of a C string literal as strace prints it (`"\26BEGIN"`, possibly followed by
 * `...` when -s truncated it): `\n \t \r \v \f \\ \"`, octal `\NNN` and hex `\xHH`
 * escapes. Undefined when `arg` is not a string literal (e.g. an address).
 */
export function decodeCString(arg: string | undefined): { bytes: number[]; truncated: boolean } | undefined {
  if (arg === undefined) return undefined;
  const s = arg.trim();
  if (!s.startsWith('"')) return undefined;
  const end = skipQuoted(s, 0);
  const bytes: number[] = [];
  const SIMPLE: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, a: 7, b: 8, e: 27, '\\': 92, '"': 34, "'": 39 };
  let i = 1;
  while (i < end - 1) {
    const c = s[i]!;
    if (c !== '\\') {
      bytes.push(s.charCodeAt(i) & 0xff);
      i++;
      continue;
    }
    const d = s[i + 1]!;
    if (d >= '0' && d <= '7') {
      let j = i + 1;
      let v = 0;
      while (j < i + 4 && s[j]! >= '0' && s[j]! <= '7') v = v * 8 + (s.charCodeAt(j++) - 48);
      bytes.push(v & 0xff);
      i = j;
    } else if (d === 'x') {
      const h = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 2, i + 4));
      bytes.push(h ? parseInt(h[0], 16) : 0);
      i += 2 + (h ? h[0].length : 0);
    } else {
      bytes.push(SIMPLE[d] ?? s.charCodeAt(i + 1));
      i += 2;
    }
  }
  return { bytes, truncated: s.slice(end).startsWith('...') };
}

/** Little-endian unsigned integer of `len` bytes at `at`, or undefined if the bytes are not all there. */
export function uintLE(bytes: readonly number[], at: number, len: number): number | undefined {
  if (at + len > bytes.length) return undefined;
  let v = 0;
  for (let k = len - 1; k >= 0; k--) v = v * 256 + bytes[at + k]!;
  return v;
}
