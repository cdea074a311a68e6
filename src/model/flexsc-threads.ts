/**
 * FlexSC-Threads (paper §4; DESIGN.md §6): M user threads multiplexed on one
 * kernel-visible *carrier* thread per core, pinned. Programs are the same as under NPTL;
 * what a syscall does differs:
 *
 * - a syscall posts an entry to the core's own syscall pages (user-mode work on the
 *   entry's cache line, no trap) and the carrier switches, at user level, to another ready
 *   user thread (a short switch that touches the next thread's saved context, a
 *   thread-scoped line pair at its own address);
 * - with no ready thread, the carrier harvests done entries (reading each result, freeing
 *   the entry, readying its thread); with nothing done either, it calls `flexsc_wait`, a
 *   real synchronous syscall that sleeps until the core's pages have a done entry (the
 *   waker's policy and the syscall-thread activation are in `flexsc.ts`);
 * - a thread that finds every entry of its core busy parks at user level until one frees;
 * - application locks and semaphores block at user level: no futex waits (a spin-then-sleep
 *   mutex spins in user mode first, exactly as under NPTL, and its `sched_yield` is posted
 *   like any call). A thread handed
 *   a lock goes back to the ready queue of its own carrier; if that carrier sleeps (in
 *   flexsc_wait, or with nothing to run), the releasing carrier wakes it with a synchronous
 *   `futex` wake (an exception-less one would wait for a syscall thread to run, and none
 *   may run while every carrier is busy);
 * - page faults stay synchronous: they trap on the carrier, and a fault that sleeps (on
 *   `mmap_sem`) blocks the carrier and with it every user thread of the core.
 *
 * Rules the paper leaves open, stated: new user threads are spread over the carriers
 * round-robin and stay on their carrier (their home); a ready queue is FIFO; resuming the
 * thread that ran last needs no switch. `os.flexsc.stealReady` (off by default) is the
 * alternative for the first rule: a carrier about to call flexsc_wait first takes a ready
 * thread from another carrier (work stealing), to measure how much the prediction rests
 * on threads staying home.
 */
import { type Cpu, type Kernel, type Process, type StepResult, EXITED, TIMED, Task } from './kernel.js';
import { JOB_DONE, KernelJob } from './kernel-job.js';
import type { FootprintRunner, FootprintSpec, Placement } from './footprint.js';
import { FlexscProcess, SyscallThread, type EntryOwner } from './flexsc.js';
import { MUTEX_FAST_PATH_INSTRUCTIONS, SpinWaitEntry, UserSemaphore, type SpinWaitMutex, type UserMutex } from './locks.js';
import type { Program, SyscallRequest } from './program.js';

/** Entries harvested per step at most (keeps segments bounded). */
const HARVEST_BATCH = 64;

/**
 * User-mode library paths of FlexSC-Threads (instruction counts from `os.flexsc`). Their
 * loads are control-dependent (read a status, branch on it), so they keep the machine's
 * default miss overlap (`hw.core.dataMissOverlap`).
 */
function libraryPath(name: string, baseCpi: number, contextLines: number): FootprintSpec {
  const regions: FootprintSpec['regions'] = [{ name: 'code', side: 'code', scope: 'shared', lines: 2, pattern: 'pass' }];
  if (contextLines > 0) regions.push({ name: 'context', side: 'data', scope: 'thread', lines: contextLines, pattern: 'pass' });
  return { name: `flexsc-threads/${name}`, mode: 'user', baseCpi, mispredictsPerKilo: 5, regions };
}

export class UserThread implements EntryOwner {
  readonly placement: Placement;
  /** The carrier whose ready queue the thread returns to. */
  home!: Carrier;
  computeLeft = 0;
  /** Calls not yet posted (a batch, or waiting for a free entry). */
  readonly queued: SyscallRequest[] = [];
  /** Posted entries not yet harvested. */
  outstanding = 0;
  exited = false;
  syscalls = 0;
  /** A spin-then-sleep mutex being entered. */
  entering: SpinWaitEntry<UserThread> | null = null;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly program: Program,
    space: number,
  ) {
    this.placement = { space, thread: id, request: 0 };
  }
}

/** The kernel-visible thread of one core. */
export class Carrier extends Task {
  readonly ready: UserThread[] = [];
  /** Sleeping carriers this one must wake (each with a futex wake call). */
  private readonly kicks: Carrier[] = [];
  private readonly parked: UserThread[] = [];
  private current: UserThread | null = null;
  private lastRun: UserThread | null = null;
  /** flexsc_wait phase: 0 not in it, 1 entered, 2 its own work done, 3 returning. */
  private waitPhase = 0;
  /** Sleeping with nothing to run (woken by a spawn or another carrier's wake), not in the kernel. */
  private idleSleep = false;
  private job: KernelJob | null = null;
  private jobKind: 'syscall' | 'exception' = 'exception';
  alive = 0;
  waits = 0;
  sleeps = 0;
  userSwitches = 0;
  faults = 0;
  /** Times a thread found every entry of the core in use and parked. */
  parks = 0;
  /** Futex wake calls made to wake other carriers that slept. */
  kicksSent = 0;
  /** Ready threads taken from other carriers (`os.flexsc.stealReady`). */
  steals = 0;

  constructor(
    k: Kernel,
    readonly runtime: FlexscThreads,
    core: number,
  ) {
    super(k.newTaskId(), `${runtime.process.name}/carrier${core}`, runtime.process, false, core);
    this.pinned = core;
  }

  get inWait(): boolean {
    return this.waitPhase > 0;
  }

  /** Sleeping because it had nothing to run (not in flexsc_wait, not in the kernel). */
  get idleSleepOnly(): boolean {
    return this.idleSleep;
  }

  advance(k: Kernel, cpu: Cpu): StepResult {
    if (this.resumeUser) {
      this.resumeUser = false;
      return k.returnToUser(cpu, 'exception');
    }
    if (this.job !== null) {
      const r = this.job.advance(k, cpu, this);
      if (r !== JOB_DONE) return r;
      this.job = null;
      return k.returnToUser(cpu, this.jobKind);
    }
    const rt = this.runtime;
    const fx = rt.fx;
    const os = k.config.os.flexsc;
    const area = fx.areas[cpu.id];
    switch (this.waitPhase) {
      case 1:
        this.waitPhase = 2;
        fx.waitPath.run(cpu.core, os.waitInstructions, this.placement, k.rng);
        return TIMED;
      case 2:
        this.waitPhase = 3;
        if (area.done.length === 0 && this.ready.length === 0 && (area.submitted.length > 0 || area.busy > 0)) {
          area.waiter = this;
          this.sleeps++;
          fx.activate(cpu);
          return k.block(this);
        }
        return k.returnToUser(cpu, 'syscall');
      case 3:
        this.waitPhase = 0;
        return k.returnToUser(cpu, 'syscall');
    }

    for (;;) {
      if (this.kicks.length > 0) {
        // A synchronous futex wake: an exception-less one would wait for some syscall
        // thread to run, and none may be running while every carrier has work.
        const target = this.kicks.shift()!;
        this.kicksSent++;
        this.job = new KernelJob(k.syscallSpec('futex'), { name: 'futex', onDone: () => target.kick(k) }, this.placement);
        this.jobKind = 'syscall';
        k.countCall('futex');
        return k.enterKernel(cpu, 'syscall');
      }
      const u = this.current;
      if (u === null) {
        while (this.parked.length > 0 && area.free.length > 0) this.ready.push(this.parked.shift()!);
        const next = this.ready.shift();
        if (next !== undefined) {
          this.current = next;
          if (next !== this.lastRun) {
            this.lastRun = next;
            this.userSwitches++;
            rt.switchPath.run(cpu.core, os.userSwitchInstructions, next.placement, k.rng);
            return TIMED;
          }
          continue;
        }
        if (area.done.length > 0) return this.harvest(k, cpu);
        if (os.stealReady && this.steal()) continue;
        if (area.submitted.length > 0 || area.busy > 0 || this.parked.length > 0) {
          // Nothing to run and nothing done: flexsc_wait.
          this.waitPhase = 1;
          this.waits++;
          return k.enterKernel(cpu, 'syscall');
        }
        // Nothing to run here: sleep until a thread is spawned or handed back.
        this.idleSleep = true;
        return k.block(this);
      }

      if (u.computeLeft > 0) {
        u.computeLeft -= k.runUser(cpu, this, u.computeLeft, u.placement);
        return TIMED;
      }
      if (u.queued.length > 0) {
        const call = u.queued[0];
        const e = fx.post(cpu.id, call, u, u.placement);
        if (e === null) {
          // Every entry of the core is in use: park at user level.
          this.parks++;
          this.parked.push(u);
          this.current = null;
          continue;
        }
        u.queued.shift();
        u.outstanding++;
        u.syscalls++;
        if (u.queued.length === 0) this.current = null;
        rt.postPath.run(cpu.core, os.postInstructions, u.placement, k.rng, undefined, (core) => fx.touchEntry(core, e, true));
        return TIMED;
      }
      if (u.outstanding > 0) {
        this.current = null;
        continue;
      }
      if (u.entering !== null) {
        const s = k.spinWaitStep(cpu, this, u.entering, u.placement);
        if (s === TIMED) return TIMED;
        if (s === 'acquired') u.entering = null;
        else if (s === 'yield') u.queued.push({ name: 'sched_yield' }); // posted like any call
        else this.current = null; // sleeps at user level until an unlock readies it
        continue;
      }
      const step = u.program.next();
      if (step.done === true) {
        this.finish(u);
        continue;
      }
      const a = step.value;
      switch (a.kind) {
        case 'compute':
          u.computeLeft = a.instructions;
          continue;
        case 'syscall':
          u.queued.push(a.call);
          continue;
        case 'batch':
          u.queued.push(...a.calls);
          continue;
        case 'lock': {
          if (a.mutex.kind === 'spin-mutex') {
            const m = a.mutex as SpinWaitMutex<UserThread>;
            u.entering = new SpinWaitEntry(m, u, () => k.rng.random());
            k.mutexFastPath(cpu, this, m, MUTEX_FAST_PATH_INSTRUCTIONS, u.placement);
            return TIMED;
          }
          const m = a.mutex as UserMutex<UserThread>;
          if (!m.lock(u)) this.current = null; // blocks at user level until handed the lock
          k.mutexFastPath(cpu, this, m, MUTEX_FAST_PATH_INSTRUCTIONS, u.placement);
          return TIMED;
        }
        case 'unlock': {
          if (a.mutex.kind === 'spin-mutex') {
            for (const w of (a.mutex as SpinWaitMutex<UserThread>).unlock(u)) this.makeReady(w);
            k.mutexFastPath(cpu, this, a.mutex, MUTEX_FAST_PATH_INSTRUCTIONS, u.placement);
            return TIMED;
          }
          const m = a.mutex as UserMutex<UserThread>;
          const heir = m.unlock(u);
          if (heir !== undefined) this.makeReady(heir);
          k.mutexFastPath(cpu, this, m, MUTEX_FAST_PATH_INSTRUCTIONS, u.placement);
          return TIMED;
        }
        case 'sem-wait': {
          const sem = a.sem as UserSemaphore<UserThread>;
          if (!sem.wait(u)) this.current = null; // blocks at user level until posted
          k.mutexFastPath(cpu, this, sem, MUTEX_FAST_PATH_INSTRUCTIONS, u.placement);
          return TIMED;
        }
        case 'sem-post': {
          const sem = a.sem as UserSemaphore<UserThread>;
          const woken = sem.post();
          if (woken !== undefined) this.makeReady(woken);
          k.mutexFastPath(cpu, this, sem, MUTEX_FAST_PATH_INSTRUCTIONS, u.placement);
          return TIMED;
        }
        case 'notify':
          k.mutexFastPath(cpu, this, rt.notifyWord, MUTEX_FAST_PATH_INSTRUCTIONS, u.placement);
          return TIMED;
        case 'fault':
          this.job = new KernelJob(k.syscallSpec('page-fault'), { name: 'page-fault' }, u.placement);
          this.jobKind = 'exception';
          k.countCall('page-fault');
          this.faults++;
          return k.enterKernel(cpu, 'exception');
        case 'request':
          u.placement.request = k.newRequestId();
          continue;
        case 'exit':
          this.finish(u);
          continue;
      }
    }
  }

  /**
   * `os.flexsc.stealReady`: with nothing ready and nothing done, take the oldest ready
   * thread of the carrier with the longest ready queue, which becomes the thread's home.
   * The thread has no outstanding entry (it is ready), so its next call posts to this
   * core's pages; the user-level switch to it then misses on its saved context, which the
   * other core last wrote.
   */
  private steal(): boolean {
    let victim: Carrier | null = null;
    for (const c of this.runtime.carriers) {
      if (c !== this && c.ready.length > 0 && (victim === null || c.ready.length > victim.ready.length)) victim = c;
    }
    if (victim === null) return false;
    const u = victim.ready.shift()!;
    victim.alive--;
    this.alive++;
    u.home = this;
    this.ready.push(u);
    this.steals++;
    return true;
  }

  /** A thread this carrier released (lock, semaphore) goes home, waking its carrier if it sleeps. */
  private makeReady(u: UserThread): void {
    const home = u.home;
    home.ready.push(u);
    if (home !== this && home.wakeable && !this.kicks.includes(home)) this.kicks.push(home);
  }

  /**
   * Whether another carrier's wake can end this carrier's sleep: only a sleep in
   * flexsc_wait or with nothing to run — never a sleep inside the kernel (a page fault on
   * mmap_sem), which only its own wake-up ends.
   */
  get wakeable(): boolean {
    if (this.state !== 'blocked') return false;
    return this.idleSleep || this.runtime.fx.areas[this.pinned].waiter === this;
  }

  /** Woken by another carrier's futex wake (see `wakeable`). */
  kick(k: Kernel): void {
    if (!this.wakeable) return;
    const area = this.runtime.fx.areas[this.pinned];
    if (area.waiter === this) area.waiter = null;
    this.idleSleep = false;
    k.wake(this);
  }

  private finish(u: UserThread): void {
    u.exited = true;
    this.current = null;
    this.alive--;
    this.runtime.exited++;
  }

  /** Reads the results of up to HARVEST_BATCH done entries, frees them, readies their threads. */
  private harvest(k: Kernel, cpu: Cpu): StepResult {
    const fx = this.runtime.fx;
    const area = fx.areas[cpu.id];
    const batch = area.done.slice(0, HARVEST_BATCH);
    const os = k.config.os.flexsc;
    this.runtime.completePath.run(cpu.core, os.completeInstructions * batch.length, this.placement, k.rng, undefined, (core) => {
      for (const e of batch) fx.touchEntry(core, e, false);
    });
    for (const e of batch) {
      const u = e.owner as UserThread;
      fx.harvest(e);
      u.outstanding--;
      if (u.outstanding === 0) this.ready.push(u);
    }
    return TIMED;
  }
}

/** The FlexSC-Threads runtime of one process: its carriers and FlexSC registration. */
export class FlexscThreads {
  readonly fx: FlexscProcess;
  readonly carriers: Carrier[];
  readonly switchPath: FootprintRunner;
  readonly postPath: FootprintRunner;
  readonly completePath: FootprintRunner;
  private nextCarrier = 0;
  /** The word a `notify` writes. */
  readonly notifyWord = new UserSemaphore<UserThread>('notify');
  spawned = 0;
  exited = 0;

  constructor(
    readonly k: Kernel,
    readonly process: Process,
  ) {
    this.fx = new FlexscProcess(k, process);
    const os = k.config.os.flexsc;
    this.switchPath = k.runner(libraryPath('switch', os.baseCpi, 2));
    this.postPath = k.runner(libraryPath('post', os.baseCpi, 0));
    this.completePath = k.runner(libraryPath('complete', os.baseCpi, 0));
    this.carriers = k.cpus.map((cpu) => new Carrier(k, this, cpu.id));
    for (const c of this.carriers) k.start(c);
    installHandoff(k);
  }

  /** A new user thread, placed on the next carrier (round-robin). */
  spawn(name: string, program: Program): UserThread {
    const u = new UserThread(this.k.newTaskId(), name, program, this.process.space);
    const c = this.carriers[this.nextCarrier];
    this.nextCarrier = (this.nextCarrier + 1) % this.carriers.length;
    u.home = c;
    c.ready.push(u);
    c.alive++;
    this.spawned++;
    if (c.state === 'blocked' && c.idleSleepOnly) c.kick(this.k);
    return u;
  }
}

/**
 * FlexSC's handoff: the switch between a carrier sleeping in flexsc_wait and a syscall
 * thread of the same process on the same core (either way) is the lightweight path, not
 * the scheduler's.
 */
function installHandoff(k: Kernel): void {
  if (k.handoffRule !== null) return;
  const path = k.runner({
    name: 'kernel/flexsc-handoff',
    mode: 'kernel',
    baseCpi: k.config.os.flexsc.baseCpi,
    mispredictsPerKilo: 0,
    regions: [{ name: 'code', side: 'code', scope: 'shared', lines: 1, pattern: 'pass' }],
  });
  k.handoffRule = (prev, next) => {
    if (prev === null || prev.process !== next.process) return null;
    if (prev instanceof Carrier && prev.inWait && next instanceof SyscallThread) return path;
    if (prev instanceof SyscallThread && next instanceof Carrier && next.inWait) return path;
    return null;
  };
}

export { SyscallThread };
