/**
 * Where points run: in this thread (`--jobs 1`) or in a pool of worker threads.
 *
 * Worker threads run the compiled `dist/src/runner/point-worker.js`: worker threads
 * cannot load `.ts` under tsx (PITFALLS.md), so a run started from source still uses the
 * compiled worker, and says to build when it is missing.
 *
 * Closing a pool terminates its workers at once, whatever they are running; the points
 * they were running reject with `ExecutorClosed`, which the runner ignores (it closed the
 * pool because the run stops anyway).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Experiment } from '../experiment.js';
import { InputError, RunLimitError } from '../errors.js';
import { projectRoot } from '../paths.js';
import { loadUserExperiment } from '../user-experiment.js';
import { computePoint, type PointOutput, type PointTask } from './point.js';
import type { WorkerReply, WorkerRequest } from './point-worker.js';

export interface PointExecutor {
  /** How many points can run at once. */
  readonly concurrency: number;
  run(task: PointTask): Promise<PointOutput>;
  /** Stops: points still running are abandoned and reject with ExecutorClosed. */
  close(): Promise<void>;
}

export class ExecutorClosed extends Error {
  override readonly name = 'ExecutorClosed';
}

/**
 * Runs points in this thread, one at a time. Each point is synchronous, so before it
 * starts the event loop gets a turn (signal handlers and timers run between points), and
 * `whileComputing` lets the caller change what happens to a signal during the point.
 */
export class InProcessExecutor implements PointExecutor {
  readonly concurrency = 1;
  private closed = false;
  constructor(
    private readonly lookup: (id: string) => Experiment,
    private readonly whileComputing: <T>(fn: () => T) => T = (fn) => fn(),
  ) {}

  async run(task: PointTask): Promise<PointOutput> {
    await yieldToEventLoop();
    if (this.closed) throw new ExecutorClosed('closed');
    const exp = task.source !== undefined ? loadUserExperiment(task.source) : this.lookup(task.experiment);
    return this.whileComputing(() => computePoint(exp, task));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The compiled worker module, wherever this module runs from. */
export function workerModule(): URL {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return new URL('./point-worker.js', import.meta.url);
  const compiled = join(projectRoot, 'dist', 'src', 'runner', 'point-worker.js');
  return pathToFileURL(compiled);
}

interface Slot {
  worker: Worker;
  /** Reserved for a point (set synchronously when handed out, so two callers never share it). */
  busy: boolean;
  pending?: { resolve: (o: PointOutput) => void; reject: (e: Error) => void; task: PointTask };
}

/** A worker's failure, rebuilt in the parent with the worker's stack. */
function workerError(e: { input: boolean; limit?: boolean; message: string; stack?: string }): Error {
  if (e.limit) return new RunLimitError(e.message);
  const err = e.input ? new InputError(e.message) : new Error(e.message);
  if (e.stack && !e.input) err.stack = e.stack;
  return err;
}

export class WorkerPool implements PointExecutor {
  private readonly slots: Slot[] = [];
  private readonly waiting: (() => void)[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    readonly concurrency: number,
    private readonly module: URL = workerModule(),
  ) {
    if (!existsSync(fileURLToPath(module))) {
      throw new InputError(`worker threads need the compiled simulator (${fileURLToPath(module)} is missing): run \`npm run build\`, or use --jobs 1`);
    }
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(this.module), busy: false };
    const fail = (err: Error) => {
      const p = slot.pending;
      slot.pending = undefined;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      if (p) p.reject(this.closed ? new ExecutorClosed('closed') : err);
      this.wakeOne();
    };
    slot.worker.on('message', (reply: WorkerReply) => {
      const p = slot.pending;
      slot.pending = undefined;
      slot.busy = false;
      if (!p) return;
      if (reply.ok) p.resolve(reply.output);
      else p.reject(workerError(reply.error));
      this.wakeOne();
    });
    slot.worker.on('error', (err) => fail(err));
    slot.worker.on('exit', (code) => fail(new Error(`a worker thread stopped unexpectedly (exit code ${code})`)));
    this.slots.push(slot);
    return slot;
  }

  private wakeOne(): void {
    this.waiting.shift()?.();
  }

  private async idleSlot(): Promise<Slot> {
    for (;;) {
      if (this.closed) throw new ExecutorClosed('closed');
      const slot = this.slots.find((s) => !s.busy) ?? (this.slots.length < this.concurrency ? this.spawn() : undefined);
      if (slot) {
        slot.busy = true;
        return slot;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  async run(task: PointTask): Promise<PointOutput> {
    const slot = await this.idleSlot();
    return new Promise<PointOutput>((resolve, reject) => {
      slot.pending = { resolve, reject, task };
      const req: WorkerRequest = { id: this.nextId++, task };
      slot.worker.postMessage(req);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const w of this.waiting.splice(0)) w();
    for (const s of slots) {
      s.pending?.reject(new ExecutorClosed('closed'));
      s.pending = undefined;
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
