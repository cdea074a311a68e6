/**
 * Benchmark of the streaming strace parser on a multi-gigabyte synthetic trace.
 *
 *     node dist/bench/strace-parse.js [--gib N] [--threads N] [--seed N] [--json]
 *
 * The trace is generated on the fly, in 1 MiB chunks into one reused buffer (nothing is
 * written to disk), and fed to `parseStraceStream`, the same line splitting and parser loop
 * `readStrace` runs on a file. It looks like `strace -f -tt -T -yy -s 64 -o` output of busy
 * servers: `threads` threads picked at random line by line; calls taken from apache-,
 * MariaDB- and bind-like templates (reads and writes on decorated sockets, futex, epoll,
 * openat failing with ENOENT, poll with annotated results, hex mmap results, …); about half
 * of them cut into `<unfinished ...>` / `<... resumed>` halves, resumed when their thread
 * next prints; a SIGCHLD now and then; every 100,000 lines a thread exits and a clone3
 * creates its successor; one call in 10,000 a write with a 64 KiB string and one in 200,000
 * with a 1 MiB string (-s 1M).
 *
 * It checks itself: the parser must report every line, no malformed one, and exactly the
 * events the generator made (calls completed or still pending at the end, signals, exits);
 * and every 1024th completed call must give back its template's arguments and result.
 *
 * Numbers: `lines_per_s` and `mb_per_s` are the parser's (line splitting + parsing +
 * consuming the events), with the generator's own time, measured inside it, taken out;
 * `e2e_mb_per_s` includes it. MB = 10^6 bytes. Memory: RSS is sampled after every chunk
 * (the peak, the value once 0.5 GiB were parsed, and at the end), and `max_rss_mb` is the
 * process's high-water mark from `process.resourceUsage()`; flat memory shows as an end
 * RSS close to the 0.5 GiB one.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { emptyStats, parseStraceStream } from '../src/workloads/trace/strace.js';

export interface StraceBenchOptions {
  /** Bytes of synthetic trace to parse (default 2 GiB). */
  bytes?: number;
  /** Threads in the trace (default 16). */
  threads?: number;
  /** Seed of the generator (default 1). */
  seed?: number;
  /** Bytes per chunk fed to the parser (default 1 MiB). */
  chunkBytes?: number;
  /** Called every 256 MiB parsed. */
  onProgress?: (p: StraceBenchProgress) => void;
}

export interface StraceBenchProgress {
  bytes: number;
  lines: number;
  seconds: number;
  rss_mb: number;
}

export interface StraceBenchResult {
  /** Bytes parsed. */
  bytes: number;
  lines: number;
  /** Events the parser emitted (calls, signals, exits). */
  events: number;
  /** Syscall events; of which split into halves, and still pending at the end. */
  calls: number;
  split_calls: number;
  pending_calls: number;
  /** Lines of 64 KiB or more. */
  long_lines: number;
  threads: number;
  /** Wall time of the run; the generator's share of it; the parser's (the rest). */
  wall_s: number;
  /** CPU time of the process (user + system, all threads) during the run: much below wall_s means the machine was busy. */
  cpu_s: number;
  gen_s: number;
  parse_s: number;
  /** Parser throughput (generator time excluded). */
  lines_per_s: number;
  mb_per_s: number;
  /** Throughput with the generator's time included. */
  e2e_mb_per_s: number;
  /** Highest RSS sampled after a chunk during the run. */
  peak_rss_mb: number;
  /** RSS when 0.5 GiB had been parsed (null for smaller runs), and at the end. */
  rss_at_half_gib_mb: number | null;
  rss_end_mb: number;
  /** The process's maximum RSS so far (resourceUsage().maxRSS). */
  max_rss_mb: number;
  /** V8 heap in use at the end. */
  heap_used_end_mb: number;
}

const GiB = 1 << 30;
const MB = 1e6;

// ---------------------------------------------------------------------------- templates

/** A call: `name(head` + `tail) = ret`; split, the entry half prints `head` and the exit half `tail`. */
interface Template {
  name: string;
  head: string;
  tail: string;
  ret: string;
  weight: number;
}

const SOCK = '13<TCP:[127.0.0.1:8080->127.0.0.1:45378]>';
const DB = '25<TCP:[127.0.0.1:3307->127.0.0.1:52314]>';
const HTTP_REQ = '"GET /small.html HTTP/1.0\\r\\nHost: 127.0.0.1:8080\\r\\nUser-Agent: ApacheBench/2.3\\r\\nAccept: */*\\r\\n\\r\\n"';

const TEMPLATES: Template[] = [
  { name: 'futex', head: '0x7f6883a0b164, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, NULL, FUTEX_BITSET_MATCH_ANY', tail: '', ret: '0', weight: 8 },
  { name: 'futex', head: '0x7f6883a0b164, FUTEX_WAKE_PRIVATE, 1', tail: '', ret: '1', weight: 4 },
  { name: 'read', head: `${SOCK}, `, tail: `${HTTP_REQ}, 8000`, ret: '89', weight: 6 },
  { name: 'read', head: `${SOCK}, `, tail: '0x7f1b2c0040a0, 8000', ret: '-1 EAGAIN (Resource temporarily unavailable)', weight: 2 },
  { name: 'epoll_wait', head: '7<anon_inode:[eventpoll]>, ', tail: '[{events=EPOLLIN, data={u32=2852126738, u64=139706427207698}}], 11, 10000', ret: '1', weight: 5 },
  {
    name: 'openat',
    head: 'AT_FDCWD</>, "/var/www/html/.htaccess", O_RDONLY|O_CLOEXEC',
    tail: '',
    ret: '-1 ENOENT (No such file or directory)',
    weight: 3,
  },
  { name: 'openat', head: 'AT_FDCWD</>, "/var/www/html/small.html", O_RDONLY|O_CLOEXEC', tail: '', ret: '14</var/www/html/small.html>', weight: 2 },
  {
    name: 'newfstatat',
    head: '14</var/www/html/small.html>, "", ',
    tail: '{st_mode=S_IFREG|0644, st_size=2807, ...}, AT_EMPTY_PATH',
    ret: '0',
    weight: 2,
  },
  {
    name: 'writev',
    head: `${SOCK}, [{iov_base="HTTP/1.1 200 OK\\r\\nDate: Tue, 02 Jul 2024 09:09:10 GMT\\r\\nServer: Apache"..., iov_len=251}], 1`,
    tail: '',
    ret: '251',
    weight: 2,
  },
  { name: 'sendfile', head: `${SOCK}, 14</var/www/html/small.html>, `, tail: '[0] => [2807], 2807', ret: '2807', weight: 2 },
  {
    name: 'accept4',
    head: '3<TCP:[127.0.0.1:8080]>, ',
    tail: '{sa_family=AF_INET, sin_port=htons(45378), sin_addr=inet_addr("127.0.0.1")}, [128 => 16], SOCK_CLOEXEC',
    ret: `${SOCK}`,
    weight: 2,
  },
  { name: 'fcntl', head: `${SOCK}, F_GETFL`, tail: '', ret: '0x2 (flags O_RDWR)', weight: 1 },
  { name: 'close', head: '14</var/www/html/small.html>', tail: '', ret: '0', weight: 2 },
  { name: 'recvfrom', head: `${DB}, `, tail: '"\\4\\0\\0\\0", 4, MSG_DONTWAIT, NULL, NULL', ret: '4', weight: 5 },
  {
    name: 'recvfrom',
    head: `${DB}, `,
    tail: '"\\3SELECT c FROM sbtest1 WHERE id=5017", 36, MSG_DONTWAIT, NULL, NULL',
    ret: '36',
    weight: 4,
  },
  { name: 'sendto', head: `${DB}, "\\1\\0\\0\\1\\1'\\0\\0\\2\\3def\\6sbtest\\7sbtest1\\7sbtest1\\1c\\1c\\f\\10\\0x\\0\\0\\0\\376\\0\\0"..., 190, MSG_DONTWAIT, NULL, 0`, tail: '', ret: '190', weight: 4 },
  {
    name: 'poll',
    head: `[{fd=${DB}, events=POLLIN|POLLPRI}], 1, 28800000`,
    tail: '',
    ret: '1 ([{fd=25, revents=POLLIN}])',
    weight: 2,
  },
  {
    name: 'recvmmsg',
    head: '21<UDP:[127.0.0.1:5353]>, ',
    tail: '[{msg_hdr={msg_name={sa_family=AF_INET, sin_port=htons(40613), sin_addr=inet_addr("127.0.0.1")}, msg_namelen=16, msg_iov=[{iov_base="\\322\\4\\1\\0\\0\\1\\0\\0\\0\\0\\0\\0\\3www\\3sim\\4test\\0\\0\\1\\0\\1", iov_len=65535}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=30}], 64, 0, NULL',
    ret: '1',
    weight: 2,
  },
  { name: 'mmap', head: 'NULL, 8392704, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK, -1, 0', tail: '', ret: '0x7f1b2c000000', weight: 1 },
  { name: 'getpid', head: '', tail: '', ret: '9950', weight: 1 },
];

/** Durations printed by -T, in µs (a spread from sub-µs calls to blocking waits). */
const DURATIONS = [1, 2, 3, 4, 5, 7, 9, 12, 15, 21, 30, 42, 57, 80, 110, 260, 1200, 5400, 31000, 250000];

/** A 64 KiB and a 1 MiB -s string argument (escaped text), for the long lines. */
function longWrite(bytes: number): Template {
  const unit = 'log line \\"%s\\" <... read resumed> = 0) \\n';
  const s = unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
  return { name: 'write', head: `3</var/log/app.log>, "${s}"..., ${bytes}`, tail: '', ret: String(bytes), weight: 0 };
}

interface Body {
  whole: Buffer;
  entry: Buffer;
  resumed: Buffer;
}

function bodies(t: Template, dur: number): Body {
  const d = `<${Math.floor(dur / 1e6)}.${String(dur % 1e6).padStart(6, '0')}>`;
  const pad = (s: string) => (s.length < 39 ? ' '.repeat(39 - s.length) : ' '); // results in column 40
  const call = `${t.name}(${t.head}${t.tail})`;
  const res = `<... ${t.name} resumed>${t.tail})`;
  return {
    whole: Buffer.from(`${call}${pad(call)}= ${t.ret} ${d}\n`, 'latin1'),
    entry: Buffer.from(`${t.name}(${t.head} <unfinished ...>\n`, 'latin1'),
    resumed: Buffer.from(`${res}${pad(res)}= ${t.ret} ${d}\n`, 'latin1'),
  };
}

// ---------------------------------------------------------------------------- generator

/** What the generator made, to check the parser against. */
interface Made {
  lines: number;
  /** Calls completed (on one line, or resumed). */
  calls: number;
  /** Calls cut into halves; of which still in progress at the end. */
  split: number;
  open: number;
  signals: number;
  exits: number;
  long: number;
  /** Seconds spent generating. */
  genS: number;
}

/** mulberry32: a small, fast, seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SIGCHLD = Buffer.from(
  '--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=11718, si_uid=33, si_status=0, si_utime=1 /* 0.01 s */, si_stime=3 /* 0.03 s */} ---\n',
  'latin1',
);
const EXITED = Buffer.from('+++ exited with 0 +++\n', 'latin1');

/**
 * Synthetic strace output, `total` bytes (a little more: whole lines), in chunks of
 * `chunk` bytes (lines run across chunks) from one reused buffer: a chunk is valid until
 * the next is asked for, which is how parseStraceStream consumes them.
 */
function* synthesize(total: number, chunk: number, nThreads: number, seed: number, made: Made): Generator<Uint8Array> {
  let t0 = performance.now();
  const random = rng(seed);
  const pool: Body[] = [];
  for (const t of TEMPLATES) for (let w = 0; w < t.weight; w++) for (const d of DURATIONS) pool.push(bodies(t, d));
  const long64k = bodies(longWrite(64 << 10), 350);
  const long1m = bodies(longWrite(1 << 20), 5200);
  const maxLine = long1m.whole.length + 64;
  const buf = Buffer.allocUnsafe(chunk + maxLine);

  let nextTid = 9950;
  const tidCol: Buffer[] = [];
  const open: (Body | undefined)[] = [];
  const column = (tid: number) => Buffer.from(`${String(tid).padEnd(5)} `, 'latin1');
  for (let k = 0; k < nThreads; k++) {
    tidCol.push(column(nextTid++));
    open.push(undefined);
  }

  let pos = 0;
  let produced = 0;
  let churnAt = 100_000;
  let us = 9 * 3600e6; // 09:00:00.000000
  /** Writes the tid column and `HH:MM:SS.uuuuuu ` of thread k. */
  const prefix = (k: number) => {
    tidCol[k]!.copy(buf, pos);
    pos += tidCol[k]!.length;
    const sec = Math.floor(us / 1e6);
    const frac = us - sec * 1e6;
    const h = Math.floor(sec / 3600) % 24;
    const m = Math.floor(sec / 60) % 60;
    const s = sec % 60;
    buf[pos++] = 48 + Math.floor(h / 10);
    buf[pos++] = 48 + (h % 10);
    buf[pos++] = 58;
    buf[pos++] = 48 + Math.floor(m / 10);
    buf[pos++] = 48 + (m % 10);
    buf[pos++] = 58;
    buf[pos++] = 48 + Math.floor(s / 10);
    buf[pos++] = 48 + (s % 10);
    buf[pos++] = 46;
    let f = frac;
    for (let d = 5; d >= 0; d--) {
      buf[pos + d] = 48 + (f % 10);
      f = Math.floor(f / 10);
    }
    pos += 6;
    buf[pos++] = 32;
    us += 1 + Math.floor(random() * 20);
    made.lines++;
  };
  const put = (b: Buffer) => {
    b.copy(buf, pos);
    pos += b.length;
  };
  /** A thread with no call in progress, other than `not`. */
  const idle = (not: number) => {
    for (let tries = 0; tries < 4 * nThreads; tries++) {
      const k = Math.floor(random() * nThreads);
      if (k !== not && open[k] === undefined) return k;
    }
    return -1;
  };

  while (produced + pos < total) {
    const k = Math.floor(random() * nThreads);
    const o = open[k];
    if (o !== undefined) {
      // the thread's call in progress returns
      prefix(k);
      put(o.resumed);
      open[k] = undefined;
      made.calls++;
    } else if (made.lines >= churnAt && nThreads > 1) {
      // thread churn: k exits, an idle thread clones its successor
      const parent = idle(k);
      if (parent >= 0) {
        churnAt += 100_000;
        prefix(k);
        put(EXITED);
        made.exits++;
        const tid = nextTid++;
        prefix(parent);
        put(Buffer.from(`clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f1b2b7fe910, parent_tid=0x7f1b2b7fe910, exit_signal=0, stack=0x7f1b2affe000, stack_size=0x7fff80, tls=0x7f1b2b7fe640} => {parent_tid=[${tid}]}, 88) = ${tid} <0.000146>\n`, 'latin1'));
        made.calls++;
        tidCol[k] = column(tid);
      }
    } else if (random() < 0.0002) {
      prefix(k);
      put(SIGCHLD);
      made.signals++;
    } else {
      const r = random();
      let b: Body;
      if (r < 0.000005) {
        b = long1m;
        made.long++;
      } else if (r < 0.0001) {
        b = long64k;
        made.long++;
      } else {
        b = pool[Math.floor(random() * pool.length)]!;
      }
      prefix(k);
      if (random() < 0.5) {
        put(b.entry);
        open[k] = b;
        made.split++;
      } else {
        put(b.whole);
        made.calls++;
      }
    }
    if (pos >= chunk) {
      made.genS += (performance.now() - t0) / 1e3;
      yield buf.subarray(0, chunk);
      t0 = performance.now();
      produced += chunk;
      buf.copy(buf, 0, chunk, pos);
      pos -= chunk;
    }
  }
  made.open = open.filter((b) => b !== undefined).length;
  made.genS += (performance.now() - t0) / 1e3;
  if (pos > 0) yield buf.subarray(0, pos);
}

// ---------------------------------------------------------------------------- benchmark

/** Parses `bytes` of synthetic strace output and measures throughput and memory; see the module comment. */
export async function benchStraceParse(opts: StraceBenchOptions = {}): Promise<StraceBenchResult> {
  const total = opts.bytes ?? 2 * GiB;
  const nThreads = opts.threads ?? 16;
  const chunk = opts.chunkBytes ?? 1 << 20;
  const made: Made = { lines: 0, calls: 0, split: 0, open: 0, signals: 0, exits: 0, long: 0, genS: 0 };
  const stats = emptyStats();
  const rssMb = () => process.memoryUsage.rss() / MB;
  let peak = rssMb();
  let atHalf: number | undefined;
  let nextProgress = 256 << 20;
  let events = 0;
  let calls = 0;
  let pending = 0;
  let durationUs = 0;
  const known = new Set([...TEMPLATES, longWrite(64 << 10), longWrite(1 << 20)].map((t) => `${t.name}(${t.head}${t.tail}) = ${t.ret}`));
  let wrong = '';
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for await (const batch of parseStraceStream(synthesize(total, chunk, nThreads, opts.seed ?? 1, made), { file: '<synthetic>' }, stats)) {
    events += batch.length;
    // a light consumer: counts and summed -T durations
    for (const ev of batch) {
      if (ev.type !== 'syscall') continue;
      calls++;
      if (ev.pending) pending++;
      else durationUs += ev.durationUs ?? 0;
      if ((calls & 1023) === 0 && !ev.pending && wrong === '') {
        const ok = ev.name === 'clone3' ? ev.child !== undefined && ev.child === ev.retval : known.has(`${ev.name}(${ev.args}) = ${ev.retText}`);
        if (!ok) wrong = `${ev.name}(${ev.args.slice(0, 200)}) = ${ev.retText.slice(0, 100)} (line ${ev.line})`;
      }
    }
    const rss = rssMb();
    if (rss > peak) peak = rss;
    if (atHalf === undefined && stats.bytes >= GiB / 2) atHalf = rss;
    if (opts.onProgress !== undefined && stats.bytes >= nextProgress) {
      nextProgress += 256 << 20;
      opts.onProgress({ bytes: stats.bytes, lines: stats.lines, seconds: (performance.now() - t0) / 1e3, rss_mb: rss });
    }
  }
  const wall = (performance.now() - t0) / 1e3;
  const cpu = process.cpuUsage(cpu0);
  const rssEnd = rssMb();
  if (rssEnd > peak) peak = rssEnd;

  // the parser must have seen exactly what was made
  const expectCalls = made.calls + made.open;
  const expectEvents = expectCalls + made.signals + made.exits;
  if (stats.lines !== made.lines || stats.malformed !== 0 || events !== expectEvents || calls !== expectCalls || pending !== made.open || !(durationUs > 0) || wrong !== '') {
    throw new Error(
      `strace bench: the parser disagrees with the generator: lines ${stats.lines} vs ${made.lines}, malformed ${stats.malformed}, ` +
        `events ${events} vs ${expectEvents}, calls ${calls} vs ${expectCalls}, pending ${pending} vs ${made.open}` +
        (wrong === '' ? '' : `; a call not generated: ${wrong}`),
    );
  }
  const parseS = wall - made.genS;
  return {
    bytes: stats.bytes,
    lines: stats.lines,
    events,
    calls,
    split_calls: made.split,
    pending_calls: pending,
    long_lines: made.long,
    threads: nThreads,
    wall_s: wall,
    cpu_s: (cpu.user + cpu.system) / 1e6,
    gen_s: made.genS,
    parse_s: parseS,
    lines_per_s: stats.lines / parseS,
    mb_per_s: stats.bytes / MB / parseS,
    e2e_mb_per_s: stats.bytes / MB / wall,
    peak_rss_mb: peak,
    rss_at_half_gib_mb: atHalf ?? null,
    rss_end_mb: rssEnd,
    max_rss_mb: (process.resourceUsage().maxRSS * 1024) / MB, // maxRSS is in KiB
    heap_used_end_mb: process.memoryUsage().heapUsed / MB,
  };
}

// ---------------------------------------------------------------------------- command line

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        gib: { type: 'string' },
        threads: { type: 'string' },
        seed: { type: 'string' },
        json: { type: 'boolean' },
      },
    }));
  } catch (e) {
    console.error(`strace-parse: ${(e as Error).message}\nusage: node dist/bench/strace-parse.js [--gib N] [--threads N] [--seed N] [--json]`);
    return 2;
  }
  const num = (name: string, v: string | undefined, dflt: number, integer: boolean): number => {
    if (v === undefined) return dflt;
    const x = Number(v);
    if (!Number.isFinite(x) || x <= 0 || (integer && !Number.isInteger(x))) {
      throw new Error(`--${name}: expected a positive ${integer ? 'whole ' : ''}number, got '${v}'`);
    }
    return x;
  };
  let gib: number;
  let threads: number;
  let seed: number;
  try {
    gib = num('gib', values.gib, 2, false);
    threads = num('threads', values.threads, 16, true);
    seed = num('seed', values.seed, 1, true);
  } catch (e) {
    console.error(`strace-parse: ${(e as Error).message}`);
    return 2;
  }
  if (!values.json) console.log(`strace-parse: ${fmt(gib, 2)} GiB of synthetic strace -f -tt -T -yy output, ${threads} threads, seed ${seed}`);
  const r = await benchStraceParse({
    bytes: Math.round(gib * GiB),
    threads,
    seed,
    onProgress: values.json
      ? undefined
      : (p) =>
          console.log(
            `  ${fmt(p.bytes / GiB, 2)} GiB  ${fmt(p.lines)} lines  ${fmt(p.seconds, 1)} s  RSS ${fmt(p.rss_mb)} MB`,
          ),
  });
  if (values.json) {
    console.log(JSON.stringify(r, null, 2));
    return 0;
  }
  console.log(
    [
      `  ${fmt(r.bytes / MB)} MB, ${fmt(r.lines)} lines -> ${fmt(r.events)} events: ${fmt(r.calls)} calls ` +
        `(${fmt(r.split_calls)} cut into halves, ${fmt(r.pending_calls)} pending at the end), ${fmt(r.long_lines)} lines of 64 KiB or more`,
      `  parser:     ${fmt(r.parse_s, 1)} s   ${fmt(r.lines_per_s / 1e6, 2)} M lines/s   ${fmt(r.mb_per_s)} MB/s`,
      `  generator:  ${fmt(r.gen_s, 1)} s (not counted above); end to end ${fmt(r.wall_s, 1)} s, ${fmt(r.e2e_mb_per_s)} MB/s; process CPU ${fmt(r.cpu_s, 1)} s`,
      `  memory:     RSS ${r.rss_at_half_gib_mb === null ? '-' : fmt(r.rss_at_half_gib_mb)} MB after 0.5 GiB, ${fmt(r.rss_end_mb)} MB at the end, ` +
        `peak sampled ${fmt(r.peak_rss_mb)} MB, maxRSS ${fmt(r.max_rss_mb)} MB; heap used at the end ${fmt(r.heap_used_end_mb)} MB`,
    ].join('\n'),
  );
  return 0;
}

/** True when this file is the script node was started with (not when imported). */
function isMain(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e instanceof Error ? e.stack : String(e));
      process.exitCode = 1;
    },
  );
}
