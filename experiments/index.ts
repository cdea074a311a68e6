/** The registry of experiments, in the order `list` and `reproduce` use. */
import type { Experiment } from '../src/experiment.js';
import { nullSyscall } from './null-syscall.js';

export const experiments: readonly Experiment[] = [nullSyscall];

export function experimentIds(): string[] {
  return experiments.map((e) => e.id);
}
