/**
 * FlexSC's kernel side (paper §3–4; DESIGN.md §6): syscall pages and syscall threads.
 *
 * - **Syscall pages.** A registered process has, per core, `os.flexsc.pagesPerCore` pages
 *   of 64 entries of 64 bytes: each entry is one cache line of the process's address space,
 *   shared by user and kernel, so an entry written on one core and read on another costs a
 *   coherence transfer — measured by the memory system, not assumed. An entry's status
 *   moves free → submitted → busy → done → free, and every transition is checked.
 * - **Syscall threads** are kernel-only threads of the process (lazy TLB: no address-space
 *   switch). At most one is *active* per process per core: it issues submitted entries —
 *   its own core's pages first, then the other cores' — running each call's kernel path
 *   (`KernelJob`). When a call blocks, its syscall thread stops being the active one and
 *   another takes over that core; when the blocked call finishes, its thread stores the
 *   result and returns to the pool (or becomes active if the core has none). With nothing
 *   left to issue, the active thread goes back to the pool.
 * - **flexsc_wait** (a synchronous syscall, see `flexsc-threads.ts`) puts the caller to
 *   sleep until its core's pages have a done entry. Its waker follows the paper's policy:
 *   the waiter is woken once all its core's posted calls have been issued and at least
 *   one is done. On one core this is the paper's rule (the others finished or blocked):
 *   the last call issued runs on the waiter's own core, which the waiter gets back only
 *   when that call has finished or blocked. When the calls run on another core, the waiter
 *   may wake while the last one still runs there (it harvests what is done and, if need
 *   be, waits again).
 * - **Core specialization.** When flexsc_wait sleeps and submitted entries exist, a syscall
 *   thread is activated on the *first free core of the static list*
 *   (`os.flexsc.syscallCores`): the first listed core without an active syscall thread of
 *   the process that is idle or is the caller's own (whose thread is going to sleep);
 *   failing that, the first listed core without one even if busy. A core that is not the
 *   caller's is woken: an idle one by its need-resched flag, a busy one by an IPI after
 *   which the syscall thread preempts the user work there (`os.flexsc.preemptOnWake`).
 *   Which cores end up running kernel work is therefore an output of these rules.
 * - **The page lock** a syscall thread holds while issuing a page's entries serializes
 *   issuing per page; with issuing modelled as one atomic step per entry, it never makes a
 *   thread wait and is not modelled further.
 * - Between the thread sleeping in flexsc_wait and the syscall thread of the same process
 *   on the same core, the switch is FlexSC's *handoff* (`os.flexsc.handoffInstructions`),
 *   not a full pass through the scheduler: Fig. 9 leaves room for only a few dozen cycles.
 */
import { KERNEL, USER } from '../hw/cache-array.js';
import type { Core } from '../hw/core.js';
import { type Cpu, type Kernel, type Process, type StepResult, BLOCKED, TIMED, Task, YIELD, smallKernelPath } from './kernel.js';
import { JOB_DONE, KernelJob } from './kernel-job.js';
import type { FootprintRunner, FootprintSpec, Placement } from './footprint.js';
import type { SyscallRequest } from './program.js';
import { syscallCoreList } from './os-config.js';
import { KERNEL_MISS_OVERLAP } from './syscalls.js';

export const ENTRIES_PER_PAGE = 64;

export const FREE = 0;
export const SUBMITTED = 1;
export const BUSY = 2;
export const DONE = 3;
export type EntryStatus = typeof FREE | typeof SUBMITTED | typeof BUSY | typeof DONE;
const STATUS_NAMES = ['free', 'submitted', 'busy', 'done'];

/** Who posted an entry (a FlexSC-Threads user thread); told when its entry is harvested. */
export interface EntryOwner {
  readonly name: string;
}

export class SyscallEntry {
  status: EntryStatus = FREE;
  request: SyscallRequest | null = null;
  owner: EntryOwner | null = null;
  /** The poster's placement at posting time (per-request kernel buffers belong to its request). */
  placement: Placement = { space: 0, thread: 0, request: 0 };
  /** Times this entry has gone through a full cycle. */
  uses = 0;

  constructor(
    readonly area: EntryArea,
    readonly index: number,
    /** The entry's cache line (in the process's address space). */
    readonly line: number,
  ) {}

  transition(from: EntryStatus, to: EntryStatus): void {
    if (this.status !== from) {
      throw new Error(`syscall entry ${this.area.core}:${this.index}: ${STATUS_NAMES[to]} from ${STATUS_NAMES[this.status]} (expected ${STATUS_NAMES[from]})`);
    }
    this.status = to;
  }
}

/** One core's syscall pages of one process. */
export class EntryArea {
  readonly entries: SyscallEntry[] = [];
  /** Free entries (a stack: the most recently freed, still cached, is reused first). */
  readonly free: SyscallEntry[] = [];
  /** Submitted entries in posting order. */
  readonly submitted: SyscallEntry[] = [];
  /** Done entries not yet harvested. */
  readonly done: SyscallEntry[] = [];
  busy = 0;
  /** The task sleeping in flexsc_wait for this area, if any. */
  waiter: Task | null = null;

  constructor(
    readonly core: number,
    firstLine: number,
    entries: number,
  ) {
    for (let i = 0; i < entries; i++) this.entries.push(new SyscallEntry(this, i, firstLine + i));
    for (let i = entries - 1; i >= 0; i--) this.free.push(this.entries[i]);
  }

  get capacity(): number {
    return this.entries.length;
  }
}

/** Counters that must balance (DESIGN.md §6; checked by `FlexscProcess.check`). */
export interface FlexscCounts {
  posted: number;
  issued: number;
  completed: number;
  harvested: number;
  blockedCalls: number;
  activations: number;
  /** Activations per core (which cores ran syscall threads: an output, never a setting). */
  activationsByCore: number[];
  /** Entries issued per core (where the kernel work ran). */
  issuedByCore: number[];
  /** Entries issued by a syscall thread on another core than the page's. */
  remoteIssues: number;
}

/**
 * Kernel paths of the mechanism (instruction counts from `os.flexsc`). Their entry loads
 * are independent of each other, so their misses overlap like the other kernel paths'
 * (`KERNEL_MISS_OVERLAP`, calibrated on Table 1).
 */
function mechanismPath(name: string, baseCpi: number, codeLines: number): FootprintSpec {
  return { ...smallKernelPath(`kernel/flexsc-${name}`, baseCpi, codeLines, 0), missOverlap: KERNEL_MISS_OVERLAP };
}

/** FlexSC state of one registered process (`flexsc_register`). */
export class FlexscProcess {
  readonly areas: EntryArea[] = [];
  /** The active syscall thread per core, if any. */
  readonly active: (SyscallThread | null)[];
  private readonly pool: SyscallThread[] = [];
  readonly threads: SyscallThread[] = [];
  readonly coreList: number[];
  readonly counts: FlexscCounts;
  readonly dispatchPath: FootprintRunner;
  readonly waitPath: FootprintRunner;
  private readonly linesPerPage: number;

  constructor(
    readonly k: Kernel,
    readonly process: Process,
  ) {
    const os = k.config.os.flexsc;
    const cores = k.cpus.length;
    const perCore = os.pagesPerCore * ENTRIES_PER_PAGE;
    const lineBytes = k.config.hw.lineBytes;
    for (let c = 0; c < cores; c++) {
      const base = k.alloc.base(`flexsc-pages/p${process.space}/c${c}`, perCore, 1) / lineBytes;
      this.areas.push(new EntryArea(c, base, perCore));
    }
    this.active = new Array<SyscallThread | null>(cores).fill(null);
    this.coreList = syscallCoreList(k.config.os, cores);
    this.counts = {
      posted: 0,
      issued: 0,
      completed: 0,
      harvested: 0,
      blockedCalls: 0,
      activations: 0,
      activationsByCore: new Array<number>(cores).fill(0),
      issuedByCore: new Array<number>(cores).fill(0),
      remoteIssues: 0,
    };
    this.dispatchPath = k.runner(mechanismPath('dispatch', os.baseCpi, 2));
    this.waitPath = k.runner(mechanismPath('wait', os.baseCpi, 2));
    this.linesPerPage = k.config.hw.pageBytes / lineBytes;
  }

  /** A data reference to an entry's line (written by the poster, read and written by the kernel). */
  touchEntry(core: Core, e: SyscallEntry, write: boolean): void {
    core.dref(e.line, Math.floor(e.line / this.linesPerPage), false, write, this.process.space);
  }

  /** Posts `request` into a free entry of `core`'s area (the caller charges the user-side cost). */
  post(core: number, request: SyscallRequest, owner: EntryOwner, placement: Placement): SyscallEntry | null {
    const area = this.areas[core];
    const e = area.free.pop();
    if (e === undefined) return null;
    e.transition(FREE, SUBMITTED);
    e.request = request;
    e.owner = owner;
    e.placement = { ...placement };
    area.submitted.push(e);
    this.counts.posted++;
    return e;
  }

  /** Frees a harvested done entry. */
  harvest(e: SyscallEntry): void {
    e.transition(DONE, FREE);
    const area = e.area;
    const i = area.done.indexOf(e);
    if (i < 0) throw new Error(`syscall entry ${area.core}:${e.index}: harvested but not on the done list`);
    area.done.splice(i, 1);
    e.request = null;
    e.owner = null;
    e.uses++;
    area.free.push(e);
    this.counts.harvested++;
  }

  /** Entries still submitted anywhere. */
  submittedCount(): number {
    let n = 0;
    for (const a of this.areas) n += a.submitted.length;
    return n;
  }

  /** The next entry for a syscall thread on `core`: its own pages first, then the next cores'. */
  nextSubmitted(core: number): SyscallEntry | null {
    const n = this.areas.length;
    for (let i = 0; i < n; i++) {
      const a = this.areas[(core + i) % n];
      if (a.submitted.length > 0) return a.submitted.shift()!;
    }
    return null;
  }

  /**
   * flexsc_wait is about to sleep on `cpu`: activate a syscall thread on the first listed
   * core without an active one, if any call waits to be issued.
   */
  activate(cpu: Cpu): void {
    if (this.submittedCount() === 0) return;
    const c = this.freeCore(cpu);
    if (c < 0) return;
    {
      const t = this.pool.pop() ?? this.newThread(c);
      // Pinned to its new core; `lastCpu` stays where it last ran, so the wake-up moves its
      // virtual runtime from that CPU's clock to this one's (as Linux does on migration).
      t.pinned = c;
      this.active[c] = t;
      t.activeCore = c;
      this.counts.activations++;
      this.counts.activationsByCore[c]++;
      this.k.wake(t, cpu);
    }
  }

  /**
   * The core for a new active syscall thread: the first listed core without one that is
   * free — idle, or the caller's own (its thread is going to sleep); failing that, the
   * first listed core without one, busy or not (woken by IPI). -1 if every listed core has one.
   */
  private freeCore(cpu: Cpu): number {
    for (const c of this.coreList) if (this.active[c] === null && (c === cpu.id || this.k.cpus[c].idle)) return c;
    for (const c of this.coreList) if (this.active[c] === null) return c;
    return -1;
  }

  private newThread(core: number): SyscallThread {
    const t = new SyscallThread(this, core);
    this.threads.push(t);
    this.process.tasks.push(t);
    t.state = 'blocked';
    return t;
  }

  /** A syscall thread has nothing to issue, or its call blocked: it leaves the active slot. */
  deactivate(t: SyscallThread): void {
    if (t.activeCore >= 0 && this.active[t.activeCore] === t) this.active[t.activeCore] = null;
    t.activeCore = -1;
  }

  /** Back to the pool (sleeping). */
  retire(t: SyscallThread): StepResult {
    this.deactivate(t);
    this.pool.push(t);
    return this.k.block(t);
  }

  /** The waiter policy: wake the area's waiter once all its calls are issued and one is done (see the module comment). */
  maybeWakeWaiter(area: EntryArea): void {
    if (area.waiter !== null && area.submitted.length === 0 && area.done.length > 0) {
      const w = area.waiter;
      area.waiter = null;
      this.k.wake(w);
    }
  }

  /** Invariants: entry counts balance with the lists; one issuing thread per core. */
  check(): void {
    let free = 0;
    let submitted = 0;
    let busy = 0;
    let done = 0;
    for (const a of this.areas) {
      for (const e of a.entries) {
        if (e.status === FREE) free++;
        else if (e.status === SUBMITTED) submitted++;
        else if (e.status === BUSY) busy++;
        else done++;
      }
      if (a.free.length + a.submitted.length + a.busy + a.done.length !== a.capacity) {
        throw new Error(`flexsc core ${a.core}: lists hold ${a.free.length}+${a.submitted.length}+${a.busy}+${a.done.length} entries, not ${a.capacity}`);
      }
    }
    const c = this.counts;
    if (c.posted - c.issued !== submitted) throw new Error(`flexsc: ${c.posted} posted − ${c.issued} issued ≠ ${submitted} submitted`);
    if (c.issued - c.completed !== busy) throw new Error(`flexsc: ${c.issued} issued − ${c.completed} completed ≠ ${busy} busy`);
    if (c.completed - c.harvested !== done) throw new Error(`flexsc: ${c.completed} completed − ${c.harvested} harvested ≠ ${done} done`);
    if (free + submitted + busy + done !== this.areas.reduce((s, a) => s + a.capacity, 0)) throw new Error('flexsc: entries lost');
  }
}

/** A kernel-only thread that issues syscall entries. */
export class SyscallThread extends Task {
  activeCore = -1;
  private job: KernelJob | null = null;
  private entry: SyscallEntry | null = null;
  /** The entry whose result store just ran: marked done at the next step. */
  private completing: SyscallEntry | null = null;
  issued = 0;

  constructor(
    readonly fx: FlexscProcess,
    core: number,
  ) {
    super(fx.k.newTaskId(), `${fx.process.name}/syscall-thread`, fx.process, true, core);
    this.preemptOnWake = fx.k.config.os.flexsc.preemptOnWake;
  }

  advance(k: Kernel, cpu: Cpu): StepResult {
    const fx = this.fx;
    const os = k.config.os.flexsc;
    if (this.completing !== null) {
      const e = this.completing;
      this.completing = null;
      e.transition(BUSY, DONE);
      e.area.busy--;
      e.area.done.push(e);
      fx.counts.completed++;
      fx.maybeWakeWaiter(e.area);
    }
    if (this.job !== null) {
      const e = this.entry!;
      const r = this.job.advance(k, cpu, this);
      if (r === BLOCKED) {
        // The call sleeps: another syscall thread takes over this core.
        fx.counts.blockedCalls++;
        const core = this.activeCore;
        fx.deactivate(this);
        if (core >= 0 && fx.submittedCount() > 0) fx.activate(cpu);
        fx.maybeWakeWaiter(e.area);
        return r;
      }
      if (r !== JOB_DONE) return r;
      this.job = null;
      this.entry = null;
      // Store the result and mark the entry done (the status write is the entry's line).
      this.completing = e;
      fx.dispatchPath.run(cpu.core, Math.ceil(os.dispatchInstructions / 2), this.placement, k.rng, undefined, (core) => fx.touchEntry(core, e, true));
      return TIMED;
    }
    if (this.activeCore !== cpu.id) {
      // Back from a blocked call: take the core's active slot if it is free, else retire.
      if (fx.active[cpu.id] !== null) return fx.retire(this);
      fx.active[cpu.id] = this;
      this.activeCore = cpu.id;
    }
    if (cpu.runqueue.length > 0 && cpu.core.now - cpu.sliceStart >= k.timesliceCycles) return YIELD;
    const e = fx.nextSubmitted(cpu.id);
    if (e === null) return fx.retire(this);
    // One issuing syscall thread per process per core (paper §3.3): checked, not assumed.
    if (fx.active[cpu.id] !== this) throw new Error(`cpu ${cpu.id}: syscall thread ${this.id} issues while ${fx.active[cpu.id]?.id ?? 'none'} is the active one`);
    e.transition(SUBMITTED, BUSY);
    e.area.busy++;
    fx.counts.issued++;
    fx.counts.issuedByCore[cpu.id]++;
    if (e.area.core !== cpu.id) fx.counts.remoteIssues++;
    this.issued++;
    fx.maybeWakeWaiter(e.area);
    this.entry = e;
    this.job = new KernelJob(k.syscallSpec(e.request!.name), e.request!, e.placement);
    k.countCall(e.request!.name);
    // Find the entry (one page check), read it and mark it busy.
    fx.dispatchPath.run(cpu.core, os.scanInstructions + Math.floor(os.dispatchInstructions / 2), this.placement, k.rng, undefined, (core) => {
      fx.touchEntry(core, e, false);
      fx.touchEntry(core, e, true);
    });
    return TIMED;
  }
}

export { USER, KERNEL };
