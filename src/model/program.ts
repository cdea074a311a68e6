/**
 * What a thread runs (DESIGN.md §6): a *program* is an iterator of actions. The same program
 * runs unchanged under every syscall mechanism — synchronous (NPTL threads), or
 * exception-less (FlexSC-Threads) — only the kernel model differs. Programs describe
 * behaviour, never timing: how long an action takes follows from the machine.
 */
import type { Task } from './kernel.js';
import type { SpinWaitMutex, UserMutex, UserSemaphore } from './locks.js';
import type { WaitChannel } from './wait-channel.js';

/** One system call as a program issues it. */
export interface SyscallRequest {
  /** Kind, from the syscall catalog (`src/model/syscalls.ts`). */
  name: string;
  /**
   * Blocks (at the catalog's wait point of the call) until the channel has a token: data
   * from a client, a new connection, another thread's signal.
   */
  wait?: WaitChannel<Task>;
  /** Blocks for this many cycles at the wait point (a disk access, a timer). */
  sleepCycles?: number;
  /** Kernel instructions of this call, when they differ from the catalog's (a larger copy, a replayed call). */
  instructions?: number;
  /** A token is posted here when the kernel work completes (waking a thread that waits on it). */
  post?: WaitChannel<Task>;
  /** Called when the kernel work completes (e.g. a response leaves for the client). */
  onDone?: (now: number) => void;
}

export type Action =
  /** User-mode work: `instructions` instructions of the process's footprint. */
  | { kind: 'compute'; instructions: number }
  /** A system call; the thread continues after it returns. */
  | { kind: 'syscall'; call: SyscallRequest }
  /**
   * Independent calls issued together: exception-less, they are posted together and the
   * thread waits for all; synchronous, they run one after another.
   */
  | { kind: 'batch'; calls: SyscallRequest[] }
  /**
   * Application lock. A pthread mutex (`UserMutex`): futex syscalls under NPTL when
   * contended, user-level blocking under FlexSC-Threads. A spin-then-sleep mutex
   * (`SpinWaitMutex`): user-mode spinning under both, then a futex wait (NPTL) or a
   * user-level block (FlexSC-Threads).
   */
  | { kind: 'lock'; mutex: UserMutex<unknown> | SpinWaitMutex<unknown> }
  | { kind: 'unlock'; mutex: UserMutex<unknown> | SpinWaitMutex<unknown> }
  /** Application semaphore (a work queue's count): waits like a contended lock when empty. */
  | { kind: 'sem-wait'; sem: UserSemaphore<unknown> }
  | { kind: 'sem-post'; sem: UserSemaphore<unknown> }
  /**
   * Signals a condition another thread may wait on, without a modelled waiter (e.g. a
   * worker telling its listener it is idle): a futex wake call under NPTL, a user-level
   * store under FlexSC-Threads.
   */
  | { kind: 'notify' }
  /** A touch of a page not yet mapped: a page fault, synchronous under every mechanism. */
  | { kind: 'fault' }
  /** The thread starts a new request: per-request buffers (user and kernel) get new addresses. */
  | { kind: 'request' }
  | { kind: 'exit' };

export type Program = Iterator<Action, void, undefined>;

export const compute = (instructions: number): Action => ({ kind: 'compute', instructions });
export const syscall = (name: string, opts: Omit<SyscallRequest, 'name'> = {}): Action => ({ kind: 'syscall', call: { name, ...opts } });
