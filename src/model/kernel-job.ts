/**
 * One execution of a system call's (or a page fault's) kernel path, by whichever task runs
 * it: the calling NPTL thread itself (synchronous), or a FlexSC syscall thread on any core
 * (exception-less). The path is the catalog's ops (`kernelOps`): bounded segments of the
 * call's footprint, the process's `mmap_sem`, TLB shootdowns, the wait point, and the
 * completion effects. Blocking (a contended semaphore, a wait) blocks the executing task;
 * when it is woken and switched back in, the job continues where it stopped.
 */
import { CAT } from '../hw/cycle-stack.js';
import type { Placement } from './footprint.js';
import { type Cpu, type Kernel, type StepResult, type Task, KERNEL, MAX_SEGMENT, TIMED } from './kernel.js';
import type { SyscallRequest } from './program.js';
import { kernelOps, type KernelOp, type SyscallSpec } from './syscalls.js';

/** `advance` finished the whole path. */
export const JOB_DONE = -1;

export class KernelJob {
  private pc = 0;
  /** Instructions left in the current run op (-1: not started). */
  private left = -1;
  private readonly ops: readonly KernelOp[];
  private readonly instructions: number;

  constructor(
    readonly spec: SyscallSpec,
    readonly request: SyscallRequest,
    /** Where per-thread and per-request regions live (the requesting thread's request). */
    readonly placement: Placement,
  ) {
    this.ops = kernelOps(spec.name, request.wait !== undefined || (request.sleepCycles ?? 0) > 0);
    this.instructions = request.instructions ?? spec.instructions;
  }

  get done(): boolean {
    return this.pc >= this.ops.length;
  }

  /** Runs the path's next timed piece on `cpu` as `task`; JOB_DONE when the path is complete. */
  advance(k: Kernel, cpu: Cpu, task: Task): StepResult | typeof JOB_DONE {
    while (this.pc < this.ops.length) {
      const op = this.ops[this.pc];
      switch (op.op) {
        case 'run': {
          const total = this.instructions * (op.to - op.from);
          if (this.left < 0) this.left = total;
          if (this.left <= 0) {
            this.pc++;
            this.left = -1;
            continue;
          }
          const n = Math.min(MAX_SEGMENT, Math.ceil(this.left));
          const done = total - this.left;
          const span = op.to - op.from;
          const slice = { from: op.from + (span * done) / total, to: op.from + (span * Math.min(total, done + n)) / total };
          const observer = k.pathObserver;
          observer?.before(cpu, task, this.spec.name);
          const cycles = k.runner(this.spec.footprint).run(cpu.core, n, this.placement, k.rng, slice);
          observer?.after(cpu, task, this.spec.name, cycles, n);
          this.left -= n;
          if (this.left <= 0) {
            this.pc++;
            this.left = -1;
          }
          return TIMED;
        }
        case 'acquire':
          this.pc++;
          if (!task.process.mmapSem.acquire(task, op.mode)) return k.block(task);
          continue;
        case 'release':
          this.pc++;
          for (const t of task.process.mmapSem.release(op.mode)) k.wake(t);
          continue;
        case 'shootdown':
          this.pc++;
          return this.shootdown(k, cpu, task);
        case 'wait': {
          this.pc++;
          const r = this.request;
          if (r.wait !== undefined && !r.wait.take(task)) return k.block(task);
          if ((r.sleepCycles ?? 0) > 0) return k.sleep(task, r.sleepCycles!);
          continue;
        }
        case 'complete': {
          this.pc++;
          const r = this.request;
          if (r.post !== undefined) k.post(r.post);
          r.onDone?.(k.now);
          continue;
        }
      }
    }
    return JOB_DONE;
  }

  /**
   * munmap on a multicore: every other CPU whose loaded page tables are the process's gets
   * an IPI whose handler flushes its TLB. With `os.ipi.shootdownAcks` 'fixed' (the default)
   * the sender is charged one IPI flight plus one handler. With 'targets' it spins (kernel
   * lock_wait) until the last target has run the handler, as Linux 2.6.33's
   * flush_tlb_others waits for every target to clear its bit: an idle target first wakes
   * (its idle exit latency), a busy one takes the interrupt at its next step.
   */
  private shootdown(k: Kernel, cpu: Cpu, task: Task): StepResult {
    const ipi = k.config.os.ipi;
    const targets = k.cpus.filter((other) => other !== cpu && other.loadedSpace === task.process.space);
    if (targets.length === 0) return TIMED;
    const core = cpu.core;
    const memory = k.machine.memory;
    const waits = ipi.shootdownAcks === 'targets';
    // Waiting for the targets: send first, then spin from the end of the sending.
    if (waits) core.charge(KERNEL, CAT.lock_wait, targets.length * ipi.sendCycles);
    const sent = waits ? core.now : k.now;
    let left = targets.length;
    for (const other of targets) {
      k.ipisSent++;
      k.at(sent + ipi.latencyCycles, () =>
        k.raise(other, {
          name: 'tlb-shootdown',
          handler: k.shootdownHandler,
          instructions: ipi.handlerInstructions,
          effect: () => {
            memory.flushTlbNonGlobal(other.id);
            if (waits && --left === 0) k.grantSpin(task);
          },
        }),
      );
    }
    if (waits) return k.spin(cpu);
    // Fixed: sending, then the acknowledgements — the IPI's flight plus the remote handler
    // (at the kernel paths' CPI), whatever the targets are doing.
    core.charge(KERNEL, CAT.lock_wait, targets.length * ipi.sendCycles + ipi.latencyCycles + ipi.handlerInstructions * k.config.os.scheduler.contextSwitch.baseCpi);
    return TIMED;
  }
}
