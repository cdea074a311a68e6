/**
 * The worker thread of the point pool (`pool.ts`): runs one parameter point at a time for
 * the parent and posts back its rows and recorded details. It must be loaded from the
 * compiled `dist/` (worker threads cannot load `.ts` under tsx; PITFALLS.md).
 *
 * Messages: in, `{ id, task: PointTask }`; out, `{ id, ok: true, output }` or
 * `{ id, ok: false, error }`. An InputError keeps its kind, so the parent exits 2 for it
 * as it would in-process.
 */
import { parentPort } from 'node:worker_threads';
import { experiments } from '../../experiments/index.js';
import { InputError, RunLimitError } from '../errors.js';
import { loadUserExperiment } from '../user-experiment.js';
import { computePoint, type PointOutput, type PointTask } from './point.js';

export interface WorkerRequest {
  id: number;
  task: PointTask;
}

export interface WorkerError {
  input: boolean;
  /** A limit (--max-events) stopped the point: the message says it all, no stack. */
  limit?: boolean;
  message: string;
  stack?: string;
}

export type WorkerReply = { id: number; ok: true; output: PointOutput } | { id: number; ok: false; error: WorkerError };

const port = parentPort;
if (port) {
  port.on('message', (req: WorkerRequest) => {
    let reply: WorkerReply;
    try {
      const exp = req.task.source !== undefined ? loadUserExperiment(req.task.source) : experiments.find((e) => e.id === req.task.experiment);
      if (!exp) throw new InputError(`unknown experiment '${req.task.experiment}'`);
      reply = { id: req.id, ok: true, output: computePoint(exp, req.task) };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      reply = { id: req.id, ok: false, error: { input: err instanceof InputError, limit: err instanceof RunLimitError, message: e.message, stack: e.stack } };
    }
    try {
      port.postMessage(reply);
    } catch (err) {
      // Rows or details that cannot be cloned (functions, class instances with handles…).
      port.postMessage({ id: req.id, ok: false, error: { input: false, message: `its result cannot be sent to the parent: ${(err as Error).message}` } } satisfies WorkerReply);
    }
  });
}
