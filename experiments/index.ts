/** The registry of experiments, in the order `list` and `reproduce` use. */
import type { Experiment } from '../src/experiment.js';
import { fig9, fig10 } from './getppid-batching.js';
import { nullSyscall } from './null-syscall.js';
import { fig1, fig2, fig3, fig4 } from './section2-figures.js';
import { ablation, bind, fig11, fig12, fig13, fig14, fig15, fig16, table4, table5 } from './servers.js';
import { table1 } from './table1.js';

export const experiments: readonly Experiment[] = [nullSyscall, table1, fig1, fig2, fig3, fig4, fig9, fig10, fig11, fig12, fig13, fig14, fig15, table4, table5, fig16, bind, ablation];

export function experimentIds(): string[] {
  return experiments.map((e) => e.id);
}
