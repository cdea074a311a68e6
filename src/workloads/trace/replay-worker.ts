/**
 * Worker-thread entry of the trace replay: runs one mechanism's replay of a recording
 * (`runBoth` in `replay.ts` runs the other on the main thread meanwhile). The recording
 * arrives structured-cloned; the plan is rebuilt from the same options, so the run is the
 * one the main thread would have made.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { planReplay, runReplay, type ReplayJob } from './replay.js';

const job = workerData as ReplayJob;
const plan = planReplay(job.recording, job.config, job.plan);
parentPort!.postMessage(runReplay(job.recording, plan, job.config, job.run));
