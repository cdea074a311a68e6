/**
 * The synchronous mechanism (DESIGN.md §6, "Sync path"): every application thread is a
 * kernel-visible NPTL thread. A system call traps on the thread's own core (syscall entry),
 * runs the call's kernel path there — possibly sleeping on a lock or a wait channel, which
 * switches the core to another thread — and returns (sysret) to user code, which resumes
 * in whatever state the kernel left the caches, TLBs and branch predictor in.
 *
 * Application locks are futex-based: an uncontended lock or unlock is a short user-mode
 * path on the lock's cache line; a contended lock makes a `futex` wait call, and the
 * unlocker hands the lock over with a `futex` wake call. A spin-then-sleep mutex
 * (`SpinWaitMutex`) spins in user mode first, calls `sched_yield` once (which runs
 * another task first if one waits with a smaller vruntime), and sleeps in a `futex` wait;
 * its unlocker's broadcast wakes the first sleeper with a `futex` call, and each woken
 * sleeper wakes the next with another (glibc's requeue).
 */
import { type Cpu, type Kernel, type Process, type StepResult, EXITED, TIMED, YIELD, Task } from './kernel.js';
import { JOB_DONE, KernelJob } from './kernel-job.js';
import { MUTEX_FAST_PATH_INSTRUCTIONS, SpinWaitEntry, type SpinWaitMutex, type UserMutex, type UserSemaphore } from './locks.js';
import type { Program, SyscallRequest } from './program.js';
import { WaitChannel } from './wait-channel.js';

export class NptlThread extends Task {
  private job: KernelJob | null = null;
  private jobKind: 'syscall' | 'exception' = 'syscall';
  /** How the thread returns to user mode when next switched in: after a `sched_yield`, by sysret. */
  private resumeKind: 'syscall' | 'exception' = 'exception';
  private computeLeft = 0;
  private readonly calls: SyscallRequest[] = [];
  /** A spin-then-sleep mutex being entered. */
  private entering: SpinWaitEntry<NptlThread> | null = null;
  /**
   * Sleepers of a spin-then-sleep mutex's broadcast still asleep behind this thread: glibc's
   * `pthread_cond_broadcast` wakes one waiter and requeues the rest on the condition's
   * mutex, and each woken thread's `pthread_mutex_unlock` of it wakes the next. One array
   * is handed down the chain, each thread taking its head.
   */
  private requeued: NptlThread[] | null = null;
  /** What a futex wait of this thread sleeps on; the unlocker posts to it. */
  readonly futex = new WaitChannel<Task>('futex');
  syscalls = 0;
  faults = 0;

  constructor(k: Kernel, name: string, process: Process, private readonly program: Program, firstCpu = 0) {
    super(k.newTaskId(), name, process, false, firstCpu);
  }

  advance(k: Kernel, cpu: Cpu): StepResult {
    if (this.resumeUser) {
      this.resumeUser = false;
      const kind = this.resumeKind;
      this.resumeKind = 'exception';
      return k.returnToUser(cpu, kind);
    }
    for (;;) {
      const job = this.job;
      if (job !== null) {
        const r = job.advance(k, cpu, this);
        if (r !== JOB_DONE) return r;
        this.job = null;
        if (job.request.name === 'sched_yield' && k.yieldsTo(cpu, this)) {
          // sched_yield's schedule() runs another task; the thread returns to user mode
          // when it is switched in again.
          this.resumeUser = true;
          this.resumeKind = 'syscall';
          return YIELD;
        }
        return k.returnToUser(cpu, this.jobKind);
      }
      if (this.computeLeft > 0) {
        this.computeLeft -= k.runUser(cpu, this, this.computeLeft);
        return TIMED;
      }
      const call = this.calls.shift();
      if (call !== undefined) {
        this.job = new KernelJob(k.syscallSpec(call.name), call, this.placement);
        k.countCall(call.name);
        this.jobKind = 'syscall';
        this.syscalls++;
        return k.enterKernel(cpu, 'syscall');
      }
      const chain = this.requeued;
      if (chain !== null) {
        // Back from the futex wait of a broadcast: InnoDB's os_event_wait_low unlocks the
        // event's mutex, which wakes the next requeued sleeper with a futex call.
        this.requeued = null;
        const next = chain.shift();
        if (next !== undefined) {
          next.requeued = chain;
          this.calls.push({ name: 'futex', post: next.futex });
        }
        continue;
      }
      if (this.entering !== null) {
        const s = k.spinWaitStep(cpu, this, this.entering);
        if (s === TIMED) return TIMED;
        if (s === 'acquired') this.entering = null;
        // sched_yield (CFS in 2.6.33 keeps the caller where it is in the tree unless
        // sched_compat_yield is set, but the call ends in schedule(), which runs a queued
        // task with a smaller vruntime if there is one), or the sleep in the wait array.
        else this.calls.push(s === 'yield' ? { name: 'sched_yield' } : { name: 'futex', wait: this.futex });
        continue;
      }
      const next = this.program.next();
      if (next.done === true) return EXITED;
      const a = next.value;
      switch (a.kind) {
        case 'compute':
          this.computeLeft = a.instructions;
          continue;
        case 'syscall':
          this.calls.push(a.call);
          continue;
        case 'batch':
          this.calls.push(...a.calls);
          continue;
        case 'lock': {
          if (a.mutex.kind === 'spin-mutex') {
            const m = a.mutex as SpinWaitMutex<NptlThread>;
            this.entering = new SpinWaitEntry(m, this, () => k.rng.random());
            k.mutexFastPath(cpu, this, m, MUTEX_FAST_PATH_INSTRUCTIONS);
            return TIMED;
          }
          const m = a.mutex as UserMutex<NptlThread>;
          // Contended: the atomic fails and the thread sleeps in futex(FUTEX_WAIT) until the
          // unlocker hands the lock over.
          if (!m.lock(this)) this.calls.push({ name: 'futex', wait: this.futex });
          k.mutexFastPath(cpu, this, m, MUTEX_FAST_PATH_INSTRUCTIONS);
          return TIMED;
        }
        case 'unlock': {
          if (a.mutex.kind === 'spin-mutex') {
            // Every sleeper must wake (InnoDB's os_event_set is a pthread_cond_broadcast), but
            // glibc's broadcast is a FUTEX_CMP_REQUEUE: it wakes the first and requeues the
            // rest, who then wake one another in turn (see `requeued`).
            const sleepers = (a.mutex as SpinWaitMutex<NptlThread>).unlock(this);
            const first = sleepers.shift();
            if (first !== undefined) {
              first.requeued = sleepers;
              this.calls.push({ name: 'futex', post: first.futex });
            }
            k.mutexFastPath(cpu, this, a.mutex, MUTEX_FAST_PATH_INSTRUCTIONS);
            return TIMED;
          }
          const m = a.mutex as UserMutex<NptlThread>;
          const heir = m.unlock(this);
          if (heir !== undefined) this.calls.push({ name: 'futex', post: heir.futex });
          k.mutexFastPath(cpu, this, m, MUTEX_FAST_PATH_INSTRUCTIONS);
          return TIMED;
        }
        case 'sem-wait': {
          const sem = a.sem as UserSemaphore<NptlThread>;
          if (!sem.wait(this)) this.calls.push({ name: 'futex', wait: this.futex });
          k.mutexFastPath(cpu, this, sem, MUTEX_FAST_PATH_INSTRUCTIONS);
          return TIMED;
        }
        case 'sem-post': {
          const sem = a.sem as UserSemaphore<NptlThread>;
          const woken = sem.post();
          if (woken !== undefined) this.calls.push({ name: 'futex', post: woken.futex });
          k.mutexFastPath(cpu, this, sem, MUTEX_FAST_PATH_INSTRUCTIONS);
          return TIMED;
        }
        case 'notify':
          this.calls.push({ name: 'futex' });
          continue;
        case 'fault':
          this.job = new KernelJob(k.syscallSpec('page-fault'), { name: 'page-fault' }, this.placement);
          k.countCall('page-fault');
          this.jobKind = 'exception';
          this.faults++;
          return k.enterKernel(cpu, 'exception');
        case 'request':
          this.placement.request = k.newRequestId();
          continue;
        case 'exit':
          return EXITED;
      }
    }
  }
}
