/**
 * The per-request system call scripts of the three closed-loop servers (DESIGN.md §7), as
 * extracted from the real recordings in `test/fixtures/strace/` by
 * `scripts/extract-mixes.ts` (logic in `./extract.ts`) into `./mixes.json`. Read
 * `./MIXES.md` for the tables and the caveats.
 *
 * ## Where every number comes from
 *
 * - `source.requests`: the load generator's output next to the trace —
 *   `apache-ab.ab.txt` (`Complete requests:`), `mariadb-oltp-{rw,ro}.sysbench.txt`
 *   (`transactions:`; `queries:` gives `source.queries`), `bind-dnsperf.dnsperf.txt`
 *   (`Queries completed:`).
 * - `recording`: every call of the trace (`strace -f -tt -T -yy -s 64`, parsed by
 *   src/workloads/trace/strace.ts), per syscall name, divided by `source.requests`.
 *   Durations are strace's `-T` times, which strace inflates (each call stops the thread
 *   twice for the tracer): they are relative evidence, not kernel costs.
 * - `threads`: per thread of the trace, its role (decided from its own calls: a `worker`
 *   reads requests, a `listener` accepts connections, anything else is `other`), the
 *   requests it served and its calls per syscall.
 * - `script`: each worker's (and, for apache, the listener's) call stream cut into one
 *   cycle per request (see `extract.ts`), the cycles aligned on their most common
 *   sequence; a step's `perRequest` is its calls in all cycles divided by the requests
 *   those cycles served (`script.roles[role].requests`: HTTP request reads and accepts,
 *   committed transactions, datagrams received — equal to `source.requests` for these
 *   recordings). `bytes`, `medianUs` and `medianGapUs` are medians over the step's calls
 *   of the return value, the `-T` duration and the time since the thread's previous call
 *   returned (user time as slowed by strace). `waitFor` and `blockedShare` follow
 *   `classifyWait` in `extract.ts` (with `blockedThresholdUs`). `background` steps are the calls
 *   housekeeping threads made between the first request's start and the last one's end,
 *   divided by the same requests (a per-request share of work that happens per unit of
 *   time as much as per request: timers, InnoDB's purge and flush threads).
 * - `unattributed`: calls in no cycle and no background step: connection set-up before
 *   the first request, the idle tail after the last one, housekeeping outside that window.
 * - `match`: per syscall name, the recording's calls per request beside the script's; the
 *   difference is the unattributed calls plus the gap between `source.requests` and the
 *   requests seen in the trace. `tolerance` (set in `extract.ts`, checked by
 *   test/mixes.test.ts) states how close they must be.
 *
 * Nothing here is calibrated or estimated by hand: every number is counted from the trace
 * or copied from the load generator's output.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { projectRoot } from '../../paths.js';

/** What a call waits for (or, for an EAGAIN probe, would have waited for). */
export const WAIT_KINDS = ['client', 'connection', 'thread', 'timer', 'disk'] as const;
export type WaitKind = (typeof WAIT_KINDS)[number];
export const WaitKindSchema = z.enum(WAIT_KINDS);

export const SERVER_IDS = ['apache', 'mysql-rw', 'mysql-ro', 'bind'] as const;
export type ServerId = (typeof SERVER_IDS)[number];

export const ROLES = ['worker', 'listener', 'other'] as const;
export type ThreadRole = (typeof ROLES)[number];
/** Roles whose calls can make up a script. */
export type ScriptRole = Exclude<ThreadRole, 'other'>;

const count = z.number().int().nonnegative();
const real = z.number().finite();
const share = z.number().min(0).max(1);

/** Calls of one syscall name in the whole recording. */
export const SyscallTotalsSchema = z.strictObject({
  /** Calls that entered the kernel (a call split in halves counts once; pending ones count). */
  calls: count,
  /** calls / source.requests. */
  perRequest: real,
  /** calls / all calls of the recording. */
  share,
  /** Mean and median `-T` duration (µs) of the calls that returned; null when none did. Inflated by strace. */
  meanUs: real.nullable(),
  medianUs: real.nullable(),
  /** Share of calls that returned an errno (EAGAIN, ETIMEDOUT, …), and the count per errno. */
  errorShare: share,
  errnos: z.record(z.string(), count),
  /** blocked + probes: the calls that look like waits. */
  waits: count,
  /** Calls that can block and did: slept until woken (futex), or took at least `blockedThresholdUs` (poll family, reads, accept, fdatasync). */
  blocked: count,
  /** Calls that could have waited but found nothing and returned EAGAIN at once (non-blocking reads, accept, futex whose value changed). */
  probes: count,
  /** calls − waits: pure kernel work. */
  work: count,
  /** The waits per kind of thing waited for. */
  waitFor: z.partialRecord(WaitKindSchema, count),
});
export type SyscallTotals = z.infer<typeof SyscallTotalsSchema>;

export const RecordingSchema = z.strictObject({
  calls: count,
  /** Calls still in progress when strace detached. */
  pending: count,
  threads: count,
  /** First call's entry to last call's exit, µs. */
  spanUs: real,
  /** calls / source.requests. */
  callsPerRequest: real,
  syscalls: z.record(z.string(), SyscallTotalsSchema),
});

export const ThreadViewSchema = z.strictObject({
  tid: count,
  role: z.enum(ROLES),
  calls: count,
  /** Requests served by this thread (requests in its cycles); 0 for other threads. */
  requests: count,
  /** Calls in its cycles / its requests; null without requests. */
  callsPerRequest: real.nullable(),
  /** Its calls in no cycle and no background step (before the first request, after the last). */
  outside: count,
  syscalls: z.record(z.string(), count),
});
export type ThreadView = z.infer<typeof ThreadViewSchema>;

/** One step of a script: calls of one syscall with one fd kind and one variant, at one place in the request. */
export const ScriptStepSchema = z.strictObject({
  /**
   * The thread that makes the call: the `worker` serving the request, (apache's event MPM)
   * the `listener` that accepted it, or `background`: housekeeping threads' calls during
   * the requests, per request served (unordered: listed by frequency).
   */
  role: z.enum(['worker', 'listener', 'background']),
  name: z.string().min(1),
  /** Kind of the fd operated on, from the -yy decoration: TCP, TCP listen, UDP, file, path (a path lookup), pipe, eventpoll, none, … */
  fd: z.string().min(1),
  /** The variant: futex op, epoll_ctl op and target, fcntl command, socket option, file name, query text, `EOF`, …; '' if none. */
  detail: z.string(),
  /** The errno every call of this step returned, or null for success. */
  errno: z.string().nullable(),
  /** Calls per request (fractional for calls made in only some requests). */
  perRequest: real.nonnegative(),
  /** Part of the typical request: the most common sequence of the steps most requests make exactly as often (never for background). */
  typical: z.boolean(),
  /** What the call waits for (null for pure kernel work). */
  waitFor: WaitKindSchema.nullable(),
  /** Share of the step's calls that blocked (see SyscallTotals.blocked). */
  blockedShare: share,
  /** Median bytes moved (return value of reads and writes, msg_len of recvmmsg/sendmmsg); null where not meaningful. */
  bytes: real.nullable(),
  /** Median recorded `-T` duration, µs (inflated by strace). */
  medianUs: real.nullable(),
  /** Median user time before the call (this call's entry − the thread's previous call's exit), µs: informative only, strace slows user code too. */
  medianGapUs: real.nullable(),
});
export type ScriptStep = z.infer<typeof ScriptStepSchema>;

export const ScriptRoleSchema = z.strictObject({
  threads: z.array(count),
  /** Requests served in this role's cycles (the denominator of its steps' perRequest). */
  requests: count,
  cycles: count,
  /** Share of cycles whose typical steps came exactly in the typical order. */
  typicalShare: share,
});

export const ScriptSchema = z.strictObject({
  /** Requests seen in the trace (served by the workers' cycles; for MariaDB, transactions that committed): the denominator of every step's perRequest. */
  requests: count,
  /** Sum of the steps' perRequest (all roles). */
  callsPerRequest: real,
  roles: z.partialRecord(z.enum(['worker', 'listener']), ScriptRoleSchema),
  /** Housekeeping threads (and a listener that accepts only per connection) whose calls between the first request's start and the last one's end are the background steps. */
  background: z.strictObject({ threads: z.array(count), calls: count, windowUs: real }),
  steps: z.array(ScriptStepSchema).min(1),
});
export type Script = z.infer<typeof ScriptSchema>;

export const MatchRowSchema = z.strictObject({
  /** Recording calls per request (all threads). */
  recording: real,
  /** Sum of the script's steps per request (all roles). */
  script: real,
  /** The part of `script` from background steps. */
  background: real,
  /** script − recording. */
  difference: real,
  /** Unattributed calls per request (source.requests as denominator). */
  unattributed: real,
  /** |difference| ≤ max(tolerance.relative × recording, tolerance.absolute). */
  ok: z.boolean(),
});
export type MatchRow = z.infer<typeof MatchRowSchema>;

export const ServerMixSchema = z.strictObject({
  description: z.string().min(1),
  source: z.strictObject({
    trace: z.string(),
    loadGenerator: z.string(),
    /** What one request is: `request` (HTTP), `transaction` (sysbench event), `query` (DNS). */
    unit: z.enum(['request', 'transaction', 'query']),
    requests: count,
    /** The load generator's line the count comes from. */
    requestsLine: z.string(),
    /** sysbench's total queries (mysql only), and queries per transaction. */
    queries: count.nullable(),
    queriesPerRequest: real.nullable(),
  }),
  recording: RecordingSchema,
  threads: z.array(ThreadViewSchema),
  script: ScriptSchema,
  unattributed: z.strictObject({
    calls: count,
    byReason: z.record(z.string(), count),
    bySyscall: z.record(z.string(), count),
  }),
  match: z.strictObject({
    total: MatchRowSchema,
    perSyscall: z.record(z.string(), MatchRowSchema),
  }),
});
export type ServerMix = z.infer<typeof ServerMixSchema>;

export const MixesSchema = z.strictObject({
  description: z.string(),
  generator: z.string(),
  /** A call that can block counts as blocked when its -T duration is at least this (µs). */
  blockedThresholdUs: real,
  /** How close a script must come to its recording, per syscall name and in total. */
  tolerance: z.strictObject({ relative: real, absolute: real, description: z.string() }),
  servers: z.strictObject({
    apache: ServerMixSchema,
    'mysql-rw': ServerMixSchema,
    'mysql-ro': ServerMixSchema,
    bind: ServerMixSchema,
  }),
});
export type Mixes = z.infer<typeof MixesSchema>;

/** Where the mixes live (read from the source tree, like the machine presets). */
export const MIXES_FILE = join(projectRoot, 'src/workloads/server/mixes.json');

let cache: Mixes | undefined;

/** Loads and validates mixes.json (cached). */
export function loadMixes(file: string = MIXES_FILE): Mixes {
  if (file === MIXES_FILE && cache !== undefined) return cache;
  const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const parsed = MixesSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('\n');
    throw new Error(`${file}: invalid mixes\n${issues}`);
  }
  if (file === MIXES_FILE) cache = parsed.data;
  return parsed.data;
}

/** One server's mix. */
export function serverMix(id: ServerId): ServerMix {
  return loadMixes().servers[id];
}

/** One server's per-request script (steps in request order). */
export function serverScript(id: ServerId): readonly ScriptStep[] {
  return serverMix(id).script.steps;
}
