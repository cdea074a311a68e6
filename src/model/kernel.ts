/**
 * The operating-system model (DESIGN.md §6): CPUs, tasks, the scheduler, interrupts and
 * wake-ups, on the simjs engine, driving the hardware model.
 *
 * ## Time
 * Each CPU advances in *steps*. A step starts at the engine's current time, which is the
 * CPU's own clock (`core.now`); it performs any number of zero-time operations (taking or
 * releasing a lock, waking a task, posting a syscall entry) and then at most one timed
 * operation — a bounded segment of instructions (≤ 2K), a mode switch, a context switch —
 * after which the next step is scheduled at the CPU's new clock. So every interaction
 * between CPUs (a lock released, a task woken, a line written) happens at an exact engine
 * time, and accesses of different cores to the shared L3 interleave at segment granularity.
 * A CPU with nothing to run stops stepping (idle); a wake-up schedules its next step.
 *
 * ## Rules, stated
 * - **Scheduler**: CFS, simplified. Each task accrues virtual runtime (the cycles it has
 *   run); a CPU runs the queued task with the least (ties: first queued). A task waking
 *   from sleep gets at least the CPU's minimum virtual runtime less half the scheduling
 *   latency (CFS's sleeper credit), and preempts the running task if it is behind it by
 *   more than the wake-up granularity (`os.scheduler`; Linux 2.6.33 scales both with
 *   1 + log2 of the number of CPUs). A task in user mode past its time slice is preempted
 *   by the timer interrupt when another task waits. Kernel code is not preempted (Linux
 *   2.6.33 server kernels: no CONFIG_PREEMPT): a preemption waits for the return to user
 *   mode, except for kernel threads, which yield between units of work.
 * - **Wake-up placement and idle balance** (`os.scheduler.balancer`): by default Linux
 *   2.6.33's (`placeLinux`, `pickNext`, `nohzKick`): `wake_affine` may send a woken task
 *   back to its busy previous CPU while another idles, a CPU with short idle periods does
 *   not pull when it runs out of work, and the periodic balancer moves tasks later; not
 *   work-conserving. `eager` is work-conserving: a task wakes on its previous CPU if that
 *   is idle, else on the first idle CPU after it, else on its previous CPU, and a CPU that
 *   runs out of work pulls a ready, unpinned task from the longest other run queue. Pinned
 *   tasks wake where they are pinned and are never moved.
 * - **Waking an idle CPU** costs no IPI: it waits in mwait on its need-resched flag, so
 *   the waker's write wakes it after `os.idle.exitCycles`.
 * - **Preemption on wake-up** happens only for tasks that ask for it (FlexSC's syscall
 *   threads, `os.flexsc.preemptOnWake`): the waker sends an IPI; the target takes the
 *   interrupt and, if it was running user code, switches to the woken task instead of
 *   returning to user mode.
 * - **Context switches** run the scheduler's kernel footprint (shared code and data, plus
 *   the incoming task's own task-struct and stack lines) and, when the address space
 *   changes, write CR3 — which flushes the non-global TLB entries unless PCIDs are in use.
 *   Kernel threads borrow the previous address space (lazy TLB).
 * - **Interrupts** (network, IPIs, the timer) trap on the CPU they are sent to at its next
 *   step boundary: exception entry, the handler's footprint, its effect (e.g. waking the
 *   thread a packet is for), exception exit — under every syscall mechanism.
 */
import { KERNEL, USER, type ExecMode } from '../hw/cache-array.js';
import type { Core } from '../hw/core.js';
import { CAT } from '../hw/cycle-stack.js';
import { Machine } from '../hw/machine.js';
import type { RunConfig } from '../run-config.js';
import { EventLimitExceeded, Entity, createRandom, createSim, getEventLimit, type SimEntity, type SimKernel, type SimRandom } from './engine.js';
import { AddressAllocator, FootprintRunner, type FootprintSpec, type Placement } from './footprint.js';
import { RwSemaphore, type LockCounters, type SpinWaitEntry, type SpinWaitMutex, type UserMutex, type UserSemaphore } from './locks.js';
import { SYSCALLS, type SyscallSpec } from './syscalls.js';
import { WaitChannel } from './wait-channel.js';

/** Segments are bounded so cores interleave (DESIGN.md §5). */
export const MAX_SEGMENT = 2000;

/** What a task's step did. */
export const TIMED = 0;
export const BLOCKED = 1;
export const SPIN = 2;
export const EXITED = 3;
/** The task gives up the CPU but stays ready (kernel threads between units of work). */
export const YIELD = 4;
export type StepResult = typeof TIMED | typeof BLOCKED | typeof SPIN | typeof EXITED | typeof YIELD;

/** Instructions per iteration of a spin-wait delay loop (`j += i; pause; i++; cmp; jb`). */
export const SPIN_LOOP_INSTRUCTIONS = 5;
/** Instructions of a spin round's check of the lock word and loop control (estimate). */
export const SPIN_CHECK_INSTRUCTIONS = 6;

export type TaskState = 'ready' | 'running' | 'blocked' | 'exited';

/** Anything the scheduler runs: an NPTL thread, a FlexSC syscall thread, a FlexSC-Threads carrier. */
export abstract class Task {
  state: TaskState = 'ready';
  /** CPU whose run queue holds the task, or that runs it. */
  cpu: Cpu | null = null;
  lastCpu: number;
  /** Pinned to one CPU (-1: may run anywhere). */
  pinned = -1;
  /** The task resumes in user mode (new, or preempted there): switching it in ends with a return to user. */
  resumeUser = true;
  /** Wants to preempt the CPU it is woken on (by IPI). */
  preemptOnWake = false;
  readonly placement: Placement;
  /** When it was last queued. */
  readySince = 0;
  /** CFS virtual runtime: cycles it has run, adjusted at wake-up and migration. */
  vruntime = 0;
  runs = 0;
  /** When it last stopped running (-Infinity: never ran; cache-cold everywhere). */
  lastRanAt = -Infinity;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly process: Process,
    /** Runs only in the kernel (no user space of its own: lazy TLB). */
    readonly kernelThread: boolean,
    firstCpu: number,
  ) {
    this.lastCpu = firstCpu;
    this.placement = { space: process.space, thread: id, request: 0 };
    if (kernelThread) this.resumeUser = false;
  }

  /** Runs the task's next piece of work on `cpu` (see the module comment on steps). */
  abstract advance(k: Kernel, cpu: Cpu): StepResult;
}

/** An interrupt waiting to be taken on a CPU. */
export interface Interrupt {
  name: string;
  handler: FootprintRunner;
  instructions: number;
  /** Runs after the handler (e.g. wakes the task a packet is for). */
  effect?: (now: number) => void;
}

export class Cpu {
  current: Task | null = null;
  readonly runqueue: Task[] = [];
  /** CFS: never decreases; the virtual time of the least-run task this CPU has seen. */
  minVruntime = 0;
  stepPending = false;
  /** Stopped: nothing to run, no step scheduled. */
  idle = true;
  /** When it last went idle. */
  idleSince = 0;
  /**
   * `os.idle.governor=menu`: the CPU's predicted idle period in cycles (a running average
   * of its past ones; until its first idle period after boot ends, it counts as idle since
   * boot), and the exit latency of the state it chose when it last went idle.
   */
  predictedIdle = Infinity;
  chosenExit = 0;
  /** It has gone idle since boot (the boot idle period has no known length). */
  hasIdled = false;
  /**
   * `os.scheduler.balancer=2.6.33`: the running average of this CPU's idle periods (Linux's
   * `rq->avg_idle`, starting at twice the migration cost), and whether its current wake is
   * the periodic balancer's (which pulls whatever avg_idle says).
   */
  avgIdle = 0;
  balanceKick = false;
  /** Periodic balance attempts in a row that found only cache-hot tasks (`nr_balance_failed`). */
  balanceFailed = 0;
  /** An idle-balance retry is scheduled (`os.scheduler.migrationCostUs`). */
  rebalancePending = false;
  /** Spinning on a kernel spinlock: no step scheduled, the wait is charged as lock_wait. */
  spinning = false;
  sliceStart = 0;
  /** Execution mode of the core right now. */
  mode: ExecMode = KERNEL;
  /** Address space whose page tables are loaded (-1: none yet). */
  loadedSpace = -1;
  /** The task that ran last (for FlexSC's handoff between a waiter and its syscall thread). */
  previous: Task | null = null;
  readonly irqs: Interrupt[] = [];
  /** Interrupt being handled: its phase, and the mode it interrupted. */
  irqPhase = 0;
  irqFrom: ExecMode = KERNEL;
  irqInstrLeft = 0;
  /** A woken task asked to preempt this CPU: reschedule at the next return to user. */
  needResched = false;
  contextSwitches = 0;
  handoffs = 0;

  constructor(
    readonly id: number,
    readonly core: Core,
  ) {}
}

export class Process {
  readonly mmapSem: RwSemaphore<Task>;
  readonly user: FootprintRunner;
  readonly tasks: Task[] = [];

  constructor(
    readonly space: number,
    readonly name: string,
    footprint: FootprintSpec,
    k: Kernel,
  ) {
    this.mmapSem = new RwSemaphore<Task>(`${name}.mmap_sem`);
    this.user = k.runner(footprint);
  }
}

/** See `Kernel.pathObserver`. */
export interface KernelPathObserver {
  /** Before a segment of `path` runs on `cpu` for `task`. */
  before(cpu: Cpu, task: Task, path: string): void;
  /** After it ran: its cycles and instructions. */
  after(cpu: Cpu, task: Task, path: string, cycles: number, instructions: number): void;
}

/** Engine driver: one entity through which the kernel schedules its callbacks. */
class Driver extends Entity {
  start(): void {}
}

export interface KernelOptions {
  config: RunConfig;
  seed: number;
  /** Track which mode evicted each line (the cycle stack's pollution split). Default true. */
  trackEvictors?: boolean;
  /** Syscall catalog (tests may replace it). */
  syscalls?: Readonly<Record<string, SyscallSpec>>;
}

const SCHEDULER: (os: RunConfig['os']) => FootprintSpec = (os) => ({
  name: 'kernel/schedule',
  mode: 'kernel',
  baseCpi: os.scheduler.contextSwitch.baseCpi,
  mispredictsPerKilo: 5,
  regions: [
    { name: 'code', side: 'code', scope: 'shared', lines: os.scheduler.contextSwitch.codeLines, pattern: 'pass' },
    { name: 'runqueue', side: 'data', scope: 'shared', lines: os.scheduler.contextSwitch.dataLines, pattern: 'pass', huge: true },
    { name: 'task', side: 'data', scope: 'thread', lines: os.scheduler.contextSwitch.taskLines, pattern: 'pass', huge: true },
  ],
});

/** A small kernel path: `codeLines` of code and `dataLines` of data, touched once per activation. */
export function smallKernelPath(name: string, baseCpi: number, codeLines: number, dataLines: number): FootprintSpec {
  const regions: FootprintSpec['regions'] = [{ name: 'code', side: 'code', scope: 'shared', lines: codeLines, pattern: 'pass' }];
  if (dataLines > 0) regions.push({ name: 'data', side: 'data', scope: 'shared', lines: dataLines, pattern: 'pass', huge: true });
  return { name, mode: 'kernel', baseCpi, mispredictsPerKilo: 5, regions };
}

export class Kernel {
  readonly machine: Machine;
  readonly config: RunConfig;
  readonly sim: SimKernel;
  readonly cpus: Cpu[];
  readonly rng: SimRandom;
  readonly alloc: AddressAllocator;
  readonly syscalls: Readonly<Record<string, SyscallSpec>>;
  readonly processes: Process[] = [];
  /**
   * Locks whose counters the run reports (every process's `mmap_sem`, and the application
   * locks a workload registers), each timed by the simulation clock once registered.
   */
  readonly locks: LockCounters[] = [];
  private readonly driver: SimEntity;
  private readonly runners = new Map<string, FootprintRunner>();
  private readonly scheduler: FootprintRunner;
  private readonly tick: FootprintRunner;
  private readonly ipiHandler: FootprintRunner;
  readonly shootdownHandler: FootprintRunner;
  private readonly timeslice: number;
  /** CFS: half the scheduling latency, and the wake-up granularity, in cycles. */
  private readonly sleeperCredit: number;
  private readonly wakeupGranularity: number;
  /** Idle balance pulls only tasks that stopped running at least this many cycles ago. */
  private readonly migrationCost: number;
  /** `os.idle.deeper` with residencies in cycles. */
  private readonly deeperIdle: readonly { after: number; exitCycles: number }[];
  private readonly menuGovernor: boolean;
  private readonly linuxBalancer: boolean;
  private readonly idleBalance: number;
  /** Idle-balance retries that woke an idle CPU. */
  rebalances = 0;
  private nextTaskId = 1;
  private nextRequestId = 1;
  /** Set to stop the run at the next event. */
  private stopped = false;
  ipisSent = 0;
  /**
   * Measurement hook: told around every segment of a kernel path a task runs (a syscall's or
   * a page fault's), so tools can attribute cycles and evictions per call. Null: no cost.
   */
  pathObserver: KernelPathObserver | null = null;
  /** Kernel paths run, by catalog kind (system calls under either mechanism, page faults). */
  readonly calls = new Map<string, number>();

  constructor(opts: KernelOptions) {
    this.config = opts.config;
    this.machine = new Machine(opts.config.hw, { trackEvictors: opts.trackEvictors ?? true });
    this.sim = createSim();
    this.driver = this.sim.addEntity(Driver, 'kernel');
    this.rng = createRandom(opts.seed);
    this.alloc = new AddressAllocator(opts.config.hw.lineBytes, opts.config.hw.pageBytes);
    this.syscalls = opts.syscalls ?? SYSCALLS;
    this.cpus = this.machine.cores.map((core, i) => new Cpu(i, core));
    const os = opts.config.os;
    this.scheduler = this.runner(SCHEDULER(os));
    this.tick = this.runner(smallKernelPath('kernel/timer-tick', os.scheduler.contextSwitch.baseCpi, 6, 4));
    this.ipiHandler = this.runner(smallKernelPath('kernel/ipi', os.scheduler.contextSwitch.baseCpi, 3, 2));
    this.shootdownHandler = this.runner(smallKernelPath('kernel/tlb-shootdown', os.scheduler.contextSwitch.baseCpi, 3, 2));
    this.timeslice = os.scheduler.timesliceUs * 1000 * opts.config.hw.ghz;
    const scale = 1 + Math.log2(opts.config.hw.cores);
    this.sleeperCredit = (os.scheduler.latencyUs * scale * 1000 * opts.config.hw.ghz) / 2;
    this.wakeupGranularity = os.scheduler.wakeupGranularityUs * scale * 1000 * opts.config.hw.ghz;
    this.migrationCost = os.scheduler.migrationCostUs * 1000 * opts.config.hw.ghz;
    this.deeperIdle = os.idle.deeper.map((d) => ({ after: d.afterUs * 1000 * opts.config.hw.ghz, exitCycles: d.exitCycles }));
    this.menuGovernor = os.idle.governor === 'menu';
    this.linuxBalancer = os.scheduler.balancer === '2.6.33';
    this.idleBalance = os.scheduler.idleBalanceUs * 1000 * opts.config.hw.ghz;
    for (const cpu of this.cpus) cpu.avgIdle = 2 * this.migrationCost;
    if (this.menuGovernor) for (const cpu of this.cpus) cpu.chosenExit = this.deepestExit(cpu.predictedIdle);
  }

  get now(): number {
    return this.sim.time();
  }

  /** A footprint runner (one per footprint name, shared by every CPU). */
  runner(spec: FootprintSpec): FootprintRunner {
    let r = this.runners.get(spec.name);
    if (!r) {
      const hw = this.config.hw;
      r = new FootprintRunner(spec, this.alloc, hw.lineBytes, hw.pageBytes, hw.hugePageBytes, hw.core.dataMissOverlap);
      this.runners.set(spec.name, r);
    }
    return r;
  }

  /** Counts one run of a kernel path (see `calls`). */
  countCall(name: string): void {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
  }

  syscallSpec(name: string): SyscallSpec {
    const s = this.syscalls[name];
    if (!s) throw new Error(`unknown syscall '${name}': the catalog has ${Object.keys(this.syscalls).join(', ')}`);
    return s;
  }

  createProcess(name: string, footprint: FootprintSpec): Process {
    const p = new Process(this.processes.length + 1, name, footprint, this);
    this.processes.push(p);
    this.registerLock(p.mmapSem);
    return p;
  }

  registerLock<L extends LockCounters>(lock: L): L {
    if (this.locks.some((l) => l.name === lock.name)) throw new Error(`lock '${lock.name}' is registered twice`);
    lock.clock = () => this.now;
    this.locks.push(lock);
    return lock;
  }

  newTaskId(): number {
    return this.nextTaskId++;
  }

  newRequestId(): number {
    return this.nextRequestId++;
  }

  /** Calls `fn` at engine time `time` (≥ now). */
  at(time: number, fn: () => void): void {
    const delay = time - this.sim.time();
    this.driver.setTimer(delay > 0 ? delay : 0).done(() => {
      if (!this.stopped) fn();
    });
  }

  /** Runs until no event is left, `until` cycles have passed, or `stop()` is called. */
  run(until = Infinity): void {
    if (until !== Infinity) this.at(until, () => this.stop());
    const limit = getEventLimit();
    if (limit === Infinity) this.sim.simulate(Infinity);
    // simjs counts the poll that finds the queue empty as an event too.
    else if (!this.sim.simulate(Infinity, limit + 1)) throw new EventLimitExceeded(limit, this.sim.time());
    // Bring every core's clock (and its idle time) to the end of the run.
    const end = this.sim.time();
    for (const cpu of this.cpus) if (cpu.core.now < end && (cpu.idle || cpu.spinning)) this.accountGap(cpu, end);
  }

  /** Brings idle and spinning CPUs' clocks (and their idle or lock-wait time) up to now. */
  settle(): void {
    const now = this.sim.time();
    for (const cpu of this.cpus) if (cpu.idle || cpu.spinning) this.accountGap(cpu, now);
  }

  stop(): void {
    this.stopped = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  // ---- tasks and the scheduler -------------------------------------------------------

  /** Adds a new task, ready to run (on `cpu`, or placed by the wake-up rule). */
  start(task: Task): void {
    task.process.tasks.push(task);
    task.state = 'blocked';
    this.wake(task);
  }

  /**
   * Makes a blocked task ready and places it (see the module comment). `from` is the CPU
   * of the waker when the waker is about to sleep there itself (no IPI is needed then).
   */
  wake(task: Task, from: Cpu | null = null): void {
    if (task.state !== 'blocked') return;
    task.state = 'ready';
    const cpu = this.cpus[this.placeWakeup(task, from ?? this.running, from !== null)];
    const prevCpu = this.cpus[task.lastCpu];
    if (prevCpu !== cpu) task.vruntime += cpu.minVruntime - prevCpu.minVruntime;
    task.vruntime = Math.max(task.vruntime, cpu.minVruntime - this.sleeperCredit);
    this.enqueue(cpu, task);
    if (cpu.idle) {
      this.kick(cpu, this.idleExit(cpu));
      return;
    }
    const cur = cpu.current;
    if (cur === null || cur === task || cur.preemptOnWake) return;
    const preempt = task.preemptOnWake || task.vruntime + this.wakeupGranularity < cur.vruntime;
    if (!preempt || cpu.needResched) return;
    // Reschedule at the CPU's next return to user mode; another CPU hears of it by IPI.
    cpu.needResched = true;
    if (cpu !== from && cpu !== this.running) this.sendIpi(cpu);
  }

  /** The CPU whose step is executing (a wake from it needs no IPI to reach itself). */
  private running: Cpu | null = null;

  private placeWakeup(task: Task, waker: Cpu | null, sync: boolean): number {
    if (task.pinned >= 0) return task.pinned;
    if (this.linuxBalancer) return this.placeLinux(task, waker, sync);
    const n = this.cpus.length;
    const prev = task.lastCpu;
    for (let i = 0; i < n; i++) {
      const c = (prev + i) % n;
      if (this.cpus[c].idle) return c;
    }
    return prev;
  }

  /** Runnable tasks on `cpu` (the running one and the queued ones): its CFS load. */
  private load(cpu: Cpu): number {
    return (cpu.current !== null ? 1 : 0) + cpu.runqueue.length;
  }

  /**
   * `os.scheduler.balancer=2.6.33`: Linux 2.6.33's `select_task_rq_fair` for one package of
   * cores sharing the L3 (the MC domain: SD_WAKE_AFFINE and SD_SHARE_PKG_RESOURCES, no
   * SD_BALANCE_WAKE, imbalance_pct 125, wake_idx 0, so loads are instantaneous). The
   * affine target is the previous CPU if it is idle, else the first idle CPU, else the
   * waker's; `wake_affine` then keeps it only if the waker's CPU is not busier than the
   * previous one: its load plus the task's, times 100, at most 112 times the previous CPU's
   * (or the waker's CPU idle, or both loads together at most one task's). A sync wake (the
   * waker is about to sleep) leaves the waker out of its CPU's load. Otherwise the task
   * goes back to its previous CPU, busy or not, whatever else is idle.
   */
  private placeLinux(task: Task, waker: Cpu | null, sync: boolean): number {
    const prev = this.cpus[task.lastCpu];
    const idle = (c: Cpu): boolean => this.load(c) === 0;
    const w = waker ?? prev;
    const target = idle(prev) ? prev : (this.cpus.find(idle) ?? w);
    if (w === prev) return target.id;
    const thisLoad = Math.max(0, this.load(w) - (sync ? 1 : 0));
    const prevLoad = this.load(prev);
    const balanced = thisLoad === 0 || 100 * (thisLoad + 1) <= 112 * prevLoad;
    if (balanced || (thisLoad <= prevLoad && thisLoad + prevLoad <= 1)) return target.id;
    return prev.id;
  }

  /**
   * Whether a `sched_yield` of `task` on `cpu` switches to another task. Linux 2.6.33's CFS
   * (`sysctl_sched_compat_yield` off) leaves the caller where it is in the tree, but the
   * call ends in `schedule()`, which runs the leftmost task: another one whenever a task
   * queued on this CPU has a smaller vruntime than the caller (a woken sleeper, placed up
   * to the sleeper credit behind `min_vruntime`, usually has).
   */
  yieldsTo(cpu: Cpu, task: Task): boolean {
    return cpu.runqueue.some((t) => t.vruntime < task.vruntime);
  }

  private enqueue(cpu: Cpu, task: Task): void {
    task.cpu = cpu;
    task.readySince = this.now;
    cpu.runqueue.push(task);
    if (this.linuxBalancer && !cpu.idle) this.nohzKick();
  }

  /**
   * `os.scheduler.balancer=2.6.33`: a busy CPU with tasks waiting nominates an idle CPU to
   * balance at its next tick (the nohz idle load balancer), `os.scheduler.idleBalanceUs`
   * from now (if any waiting task could move; see `rebalanceAt`).
   */
  private nohzKick(): void {
    const idle = this.cpus.find((c) => c.idle && c.current === null && c.runqueue.length === 0);
    if (idle !== undefined) this.rebalanceAt(idle, this.now + this.idleBalance);
  }

  /** Sends a reschedule IPI to `cpu` (the sender's cost is charged by the caller's path). */
  sendIpi(cpu: Cpu): void {
    this.ipisSent++;
    const ipi = this.config.os.ipi;
    this.at(this.now + ipi.latencyCycles, () => this.raise(cpu, { name: 'ipi', handler: this.ipiHandler, instructions: ipi.handlerInstructions }));
  }

  /** Queues an interrupt on `cpu`; an idle CPU wakes to take it. */
  raise(cpu: Cpu, irq: Interrupt): void {
    cpu.irqs.push(irq);
    if (cpu.idle) this.kick(cpu, this.idleExit(cpu));
  }

  /**
   * An idle CPU looks for a task to pull again at `time` (if still idle then). The 2.6.33
   * balancer schedules no balance while only pinned tasks (FlexSC's carriers and syscall
   * threads) wait: it would be a no-op event that holds the CPU's balance slot and runs the
   * clock past the last real work.
   */
  private rebalanceAt(cpu: Cpu, time: number): void {
    if (cpu.rebalancePending) return;
    if (this.linuxBalancer && !this.unpinnedWaiting()) return;
    cpu.rebalancePending = true;
    this.at(time, () => {
      cpu.rebalancePending = false;
      // (The 2.6.33 balancer runs from the tick: it wakes no CPU when nothing could move.)
      if (this.linuxBalancer && !this.unpinnedWaiting()) return;
      if (cpu.idle) {
        this.rebalances++;
        cpu.balanceKick = true;
        this.kick(cpu, this.idleExit(cpu));
      }
    });
  }

  /**
   * Exit latency of an idle CPU woken now: under the ladder, that of the deepest state it
   * has been idle long enough to reach; under the menu governor, that of the state it chose.
   */
  private idleExit(cpu: Cpu): number {
    return this.menuGovernor ? cpu.chosenExit : this.deepestExit(this.now - cpu.idleSince);
  }

  /**
   * Exit latency of the deepest idle state whose residency `idle` cycles reach: the
   * shallow state's, or one of `os.idle.deeper`'s. The ladder asks it with the time idle so
   * far, the menu governor with the idle period it predicts.
   */
  private deepestExit(idle: number): number {
    let exit = this.config.os.idle.exitCycles;
    for (const state of this.deeperIdle) if (idle >= state.after) exit = Math.max(exit, state.exitCycles);
    return exit;
  }

  /** Some run queue holds a task another CPU could take. */
  private unpinnedWaiting(): boolean {
    return this.cpus.some((c) => c.runqueue.some((t) => t.pinned < 0));
  }

  /** Wakes an idle CPU: its next step comes after `delay` cycles. */
  private kick(cpu: Cpu, delay: number): void {
    cpu.idle = false;
    if (cpu.hasIdled) {
      const idleFor = this.now - cpu.idleSince;
      if (this.linuxBalancer && !cpu.balanceKick) {
        const max = 2 * this.migrationCost;
        cpu.avgIdle = idleFor > max ? max : cpu.avgIdle + (idleFor - cpu.avgIdle) / 8;
      }
      if (this.menuGovernor) {
        cpu.predictedIdle = cpu.predictedIdle === Infinity ? idleFor : cpu.predictedIdle + (idleFor - cpu.predictedIdle) / 8;
      }
    }
    this.scheduleStep(cpu, this.now + delay);
  }

  private scheduleStep(cpu: Cpu, time: number): void {
    if (cpu.stepPending) return;
    cpu.stepPending = true;
    this.at(time, () => this.step(cpu));
  }

  /** Accounts the gap before `time` on a CPU that was idle or spinning. */
  private accountGap(cpu: Cpu, time: number): void {
    const core = cpu.core;
    if (time <= core.now) return;
    if (cpu.spinning) core.charge(KERNEL, CAT.lock_wait, time - core.now);
    else core.idleUntil(time);
  }

  /** Blocks the running task on `cpu` until `wake(task)`; returns BLOCKED for the step. */
  block(task: Task): StepResult {
    task.state = 'blocked';
    return BLOCKED;
  }

  /** Blocks the running task for `cycles`. */
  sleep(task: Task, cycles: number): StepResult {
    task.state = 'blocked';
    this.at(this.now + cycles, () => this.wake(task));
    return BLOCKED;
  }

  /** The task starts spinning on `cpu` (charged as lock_wait until `grantSpin`). */
  spin(cpu: Cpu): StepResult {
    cpu.spinning = true;
    return SPIN;
  }

  /** A spinning CPU got its lock: it resumes now. */
  grantSpin(task: Task): void {
    const cpu = task.cpu;
    if (cpu === null || !cpu.spinning) throw new Error(`task ${task.name} was not spinning`);
    this.accountGap(cpu, this.now);
    cpu.spinning = false;
    this.scheduleStep(cpu, this.now);
  }

  /** Posts a token to a wait channel and wakes the task it hands it to. */
  post(channel: WaitChannel<Task>): void {
    const w = channel.post();
    if (w !== undefined) this.wake(w);
  }

  private step(cpu: Cpu): void {
    cpu.stepPending = false;
    const core = cpu.core;
    const t = this.now;
    if (core.now < t) this.accountGap(cpu, t);
    else if (core.now > t + 1e-6) throw new Error(`cpu ${cpu.id}: step at ${t} but the core is busy until ${core.now}`);
    cpu.idle = false;

    if (cpu.irqPhase > 0 || cpu.irqs.length > 0) {
      this.interruptStep(cpu);
      this.scheduleStep(cpu, core.now);
      return;
    }

    let task = cpu.current;
    if (task === null) {
      task = this.pickNext(cpu);
      if (task === null) {
        cpu.idle = true;
        cpu.idleSince = core.now;
        cpu.hasIdled = true;
        if (this.menuGovernor) cpu.chosenExit = this.deepestExit(cpu.predictedIdle);
        cpu.mode = KERNEL;
        cpu.previous = null;
        return;
      }
      this.switchTo(cpu, task);
      this.scheduleStep(cpu, core.now);
      return;
    }

    // A woken task asked to preempt (IPI) while this one was in the kernel: it is
    // preempted now that it is back in user mode.
    if (cpu.needResched && cpu.mode === USER) {
      cpu.needResched = false;
      if (cpu.runqueue.length > 0) {
        task.resumeUser = true;
        task.state = 'ready';
        this.enqueue(cpu, task);
        this.leave(cpu, task);
        this.scheduleStep(cpu, core.now);
        return;
      }
    }
    // Time slice: a user-mode task past its slice is preempted by the timer tick when
    // another task waits; a kernel thread yields between units of work (see `YIELD`).
    if (cpu.runqueue.length > 0 && core.now - cpu.sliceStart >= this.timeslice && cpu.mode === USER) {
      cpu.needResched = true;
      this.raise(cpu, { name: 'timer', handler: this.tick, instructions: this.config.os.scheduler.tickInstructions });
      this.interruptStep(cpu);
      this.scheduleStep(cpu, core.now);
      return;
    }

    const before = core.now;
    this.running = cpu;
    const r = task.advance(this, cpu);
    this.running = null;
    task.vruntime += core.now - before;
    switch (r) {
      case TIMED:
        break;
      case SPIN:
        return; // resumed by grantSpin
      case YIELD:
        task.state = 'ready';
        this.enqueue(cpu, task);
        this.leave(cpu, task);
        break;
      case BLOCKED:
      case EXITED:
        if (r === EXITED) task.state = 'exited';
        else if (task.state !== 'blocked' && task.state !== 'ready') throw new Error(`task ${task.name} returned BLOCKED in state ${task.state}`);
        this.leave(cpu, task);
        break;
    }
    this.scheduleStep(cpu, core.now);
  }

  private leave(cpu: Cpu, task: Task): void {
    cpu.previous = task;
    cpu.current = null;
    task.lastCpu = cpu.id;
    task.lastRanAt = cpu.core.now;
    if (task.state !== 'ready') task.cpu = null;
  }

  /**
   * Next task for `cpu`: its own run queue, else one pulled from the longest other queue
   * (idle balance). With `os.scheduler.migrationCostUs` > 0 only a cache-cold task is
   * pulled — one that stopped running at least that long ago (Linux 2.6.33's `task_hot`
   * and `sysctl_sched_migration_cost`); if only hot ones wait, the CPU idles and looks again
   * when the first of them turns cold (standing for the periodic balancer, which moves a hot
   * task once its attempts have failed).
   */
  private pickNext(cpu: Cpu): Task | null {
    const q = cpu.runqueue;
    if (q.length > 0) {
      let best = 0;
      for (let i = 1; i < q.length; i++) if (q[i].vruntime < q[best].vruntime) best = i;
      const [task] = q.splice(best, 1);
      cpu.minVruntime = Math.max(cpu.minVruntime, task.vruntime);
      return task;
    }
    const now = cpu.core.now;
    const cost = this.migrationCost;
    let periodic = false;
    if (this.linuxBalancer) {
      periodic = cpu.balanceKick;
      cpu.balanceKick = false;
      // Linux 2.6.33's idle_balance: a CPU whose idle periods are short on average does not
      // pull when it runs out of work; the periodic balancer will.
      if (!periodic && cpu.avgIdle < cost) {
        this.rebalanceAt(cpu, now + this.idleBalance);
        return null;
      }
    }
    // The periodic balancer moves a cache-hot task too once it has failed more than the MC
    // domain's cache_nice_tries (1) times (can_migrate_task).
    const hotToo = periodic && cpu.balanceFailed > 1;
    // (Another CPU's clock may be ahead of this one's: with no cost, any unpinned task moves.)
    const movable = (t: Task): boolean => t.pinned < 0 && (cost === 0 || hotToo || now - t.lastRanAt >= cost);
    let victim: Cpu | null = null;
    let firstCold = Infinity;
    for (const other of this.cpus) {
      if (other === cpu) continue;
      let any = false;
      for (const t of other.runqueue) {
        if (movable(t)) any = true;
        else if (t.pinned < 0) firstCold = Math.min(firstCold, t.lastRanAt + cost);
      }
      if (any && (victim === null || other.runqueue.length > victim.runqueue.length)) victim = other;
    }
    if (victim === null) {
      if (firstCold < Infinity) {
        if (!this.linuxBalancer) this.rebalanceAt(cpu, firstCold);
        else {
          // 2.6.33 has no wake-up for a task turning cold: the next periodic balance, which
          // counts this attempt as failed if it was one.
          if (periodic) cpu.balanceFailed++;
          this.rebalanceAt(cpu, now + this.idleBalance);
        }
      }
      return null;
    }
    cpu.balanceFailed = 0;
    const i = victim.runqueue.findIndex(movable);
    const [task] = victim.runqueue.splice(i, 1);
    // Migrated: its virtual runtime is kept relative to the queues' minimums.
    task.vruntime += cpu.minVruntime - victim.minVruntime;
    return task;
  }

  /**
   * Switches `cpu` to `next`: the scheduler's path (or FlexSC's lightweight handoff between
   * a thread sleeping in flexsc_wait and its syscall thread), the CR3 write if the address
   * space changes. One timed operation.
   */
  private switchTo(cpu: Cpu, next: Task): void {
    const core = cpu.core;
    cpu.mode = KERNEL;
    next.state = 'running';
    next.cpu = cpu;
    next.runs++;
    const handoff = this.isHandoff(cpu.previous, next);
    if (handoff !== null) {
      handoff.run(core, this.config.os.flexsc.handoffInstructions, next.placement, this.rng);
      cpu.handoffs++;
    } else {
      const cs = this.config.os.scheduler.contextSwitch;
      this.scheduler.run(core, cs.instructions, next.placement, this.rng);
      cpu.contextSwitches++;
    }
    if (!next.kernelThread && cpu.loadedSpace !== next.process.space) {
      if (cpu.loadedSpace >= 0 && this.config.hw.modeSwitch.kpti !== 'pcid') this.machine.memory.flushTlbNonGlobal(cpu.id);
      cpu.loadedSpace = next.process.space;
    }
    cpu.current = next;
    cpu.sliceStart = core.now;
    cpu.needResched = false;
  }

  /** Set by the FlexSC model: which switches are handoffs, and the handoff's footprint. */
  handoffRule: ((prev: Task | null, next: Task) => FootprintRunner | null) | null = null;

  private isHandoff(prev: Task | null, next: Task): FootprintRunner | null {
    return this.handoffRule === null ? null : this.handoffRule(prev, next);
  }

  /**
   * One timed phase of interrupt handling on `cpu`: entry (charged to the interrupted mode),
   * the handler, its effect, then exit — or, when a woken task asked to preempt and user
   * code was interrupted, a reschedule instead of the return to user.
   */
  private interruptStep(cpu: Cpu): void {
    const core = cpu.core;
    const ms = this.config.hw.modeSwitch;
    switch (cpu.irqPhase) {
      case 0: {
        cpu.irqFrom = cpu.current !== null ? cpu.mode : KERNEL;
        if (cpu.irqFrom === USER) this.machine.modeSwitch.perform(core, KERNEL, 'exception');
        else core.charge(KERNEL, CAT.mode_switch, ms.exceptionEntryCycles);
        cpu.mode = KERNEL;
        cpu.irqPhase = 1;
        cpu.irqInstrLeft = cpu.irqs[0].instructions;
        return;
      }
      case 1: {
        const irq = cpu.irqs[0];
        const n = Math.min(MAX_SEGMENT, cpu.irqInstrLeft);
        const total = irq.instructions;
        const done = total - cpu.irqInstrLeft;
        const slice = total > 0 ? { from: done / total, to: (done + n) / total } : { from: 0, to: 1 };
        irq.handler.run(core, n, { space: 0, thread: 0, request: 0 }, this.rng, slice);
        cpu.irqInstrLeft -= n;
        if (cpu.irqInstrLeft > 0) return;
        cpu.irqs.shift();
        irq.effect?.(this.now);
        if (cpu.irqs.length > 0) {
          cpu.irqInstrLeft = cpu.irqs[0].instructions;
          return; // the next pending interrupt's handler, without another entry
        }
        cpu.irqPhase = 2;
        return this.interruptExit(cpu);
      }
      default:
        return this.interruptExit(cpu);
    }
  }

  private interruptExit(cpu: Cpu): void {
    const core = cpu.core;
    // Effects run at the end of the handler segment; they are zero-time, so check them at
    // this step's time before leaving.
    cpu.irqPhase = 0;
    const task = cpu.current;
    if (cpu.irqFrom === USER && task !== null) {
      if (cpu.needResched && cpu.runqueue.length > 0) {
        // Preempted at the return to user: it resumes in user mode when next switched in.
        task.resumeUser = true;
        task.state = 'ready';
        this.enqueue(cpu, task);
        this.leave(cpu, task);
        cpu.needResched = false;
        return;
      }
      this.machine.modeSwitch.perform(core, USER, 'exception');
      cpu.mode = USER;
    } else {
      core.charge(KERNEL, CAT.mode_switch, this.config.hw.modeSwitch.exceptionExitCycles);
      cpu.mode = KERNEL;
    }
    cpu.needResched = cpu.needResched && cpu.current !== null && cpu.runqueue.length > 0;
  }

  // ---- helpers for tasks -------------------------------------------------------------

  /** Switches the CPU to user mode (a sysret after a syscall, an iret otherwise). One timed operation. */
  returnToUser(cpu: Cpu, kind: 'syscall' | 'exception'): StepResult {
    this.machine.modeSwitch.perform(cpu.core, USER, kind);
    cpu.mode = USER;
    return TIMED;
  }

  /** Enters the kernel from user mode. One timed operation. */
  enterKernel(cpu: Cpu, kind: 'syscall' | 'exception'): StepResult {
    this.machine.modeSwitch.perform(cpu.core, KERNEL, kind);
    cpu.mode = KERNEL;
    return TIMED;
  }

  /** Runs up to MAX_SEGMENT user instructions of the task's process; returns how many ran. */
  runUser(cpu: Cpu, task: Task, instructions: number, at: Placement = task.placement): number {
    const n = Math.min(MAX_SEGMENT, instructions);
    task.process.user.run(cpu.core, n, at, this.rng);
    return n;
  }

  /**
   * The user-mode fast path of a mutex lock or unlock: a short segment of the process's
   * code that writes the lock's cache line (so a lock shared by cores pays transfers).
   */
  mutexFastPath(cpu: Cpu, task: Task, mutex: UserMutex<unknown> | UserSemaphore<unknown> | SpinWaitMutex<unknown>, instructions: number, at: Placement = task.placement): void {
    const line = this.lockLine(task, mutex);
    const page = Math.floor(line / this.linesPerPage);
    task.process.user.run(cpu.core, instructions, at, this.rng, undefined, (core) => core.dref(line, page, false, true, task.process.space));
  }

  private lockLine(task: Task, mutex: UserMutex<unknown> | UserSemaphore<unknown> | SpinWaitMutex<unknown>): number {
    if (mutex.line < 0) mutex.line = this.alloc.base(`mutex/p${task.process.space}/${mutex.name}`, 1, 1) / this.config.hw.lineBytes;
    return mutex.line;
  }

  /**
   * The next step of a thread entering a spin-then-sleep mutex: `'acquired'` (the thread
   * holds it), one round of the delay loop run on `cpu` (`TIMED`), or what the mechanism
   * must do for the thread — `'yield'` (a `sched_yield` call) or `'sleep'` (until an unlock
   * wakes it).
   */
  spinWaitStep(cpu: Cpu, task: Task, entry: SpinWaitEntry<unknown>, at: Placement = task.placement): 'acquired' | 'yield' | 'sleep' | typeof TIMED {
    const r = entry.steps.next();
    if (r.done === true) return 'acquired';
    if (r.value.kind !== 'delay') return r.value.kind;
    this.spinDelay(cpu, task, entry.mutex, r.value.iterations, at);
    return TIMED;
  }

  /**
   * One round of a spin-wait's delay loop (InnoDB's `ut_delay`: `iterations` × `j += i;
   * pause`), then a read of the lock word — a transfer when another core wrote it last.
   * User-mode work of its own tiny footprint: its instructions retire at the `pause`
   * instruction's latency.
   */
  private spinDelay(cpu: Cpu, task: Task, mutex: SpinWaitMutex<unknown>, iterations: number, at: Placement): void {
    const line = this.lockLine(task, mutex);
    const page = Math.floor(line / this.linesPerPage);
    const instructions = SPIN_LOOP_INSTRUCTIONS * iterations + SPIN_CHECK_INSTRUCTIONS;
    this.spinLoop.run(cpu.core, instructions, at, this.rng, undefined, (core) => core.dref(line, page, false, false, task.process.space));
  }

  private spinLoopRunner: FootprintRunner | null = null;

  /**
   * The delay loop's footprint: one code line, no data. Per iteration five instructions
   * (add, pause, increment, compare, branch) take the `pause`'s latency plus about one
   * cycle for the other four, so its base CPI is (pauseCycles + 1) / 5.
   */
  private get spinLoop(): FootprintRunner {
    this.spinLoopRunner ??= this.runner({
      name: 'spin-wait-loop',
      mode: 'user',
      baseCpi: (this.config.hw.core.pauseCycles + 1) / SPIN_LOOP_INSTRUCTIONS,
      mispredictsPerKilo: 0,
      regions: [{ name: 'code', side: 'code', scope: 'shared', lines: 1, pattern: 'pass' }],
    });
    return this.spinLoopRunner;
  }

  /** Cache lines per page. */
  get linesPerPage(): number {
    return this.config.hw.pageBytes / this.config.hw.lineBytes;
  }

  /** Cycles of one full time slice. */
  get timesliceCycles(): number {
    return this.timeslice;
  }

  /** Per-CPU check: the cycle stack sums to the core's clock (DESIGN.md §6b). */
  checkCycleStacks(): void {
    for (const cpu of this.cpus) {
      const total = cpu.core.stack.total();
      if (Math.abs(total - cpu.core.now) > 1e-6 * Math.max(1, cpu.core.now)) {
        throw new Error(`cpu ${cpu.id}: cycle stack sums to ${total} but the core's clock is ${cpu.core.now}`);
      }
    }
  }
}

export { USER, KERNEL };
