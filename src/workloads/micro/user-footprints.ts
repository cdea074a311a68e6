/**
 * User footprints of the Section 2 workloads: reuse-distance profiles reaching L3 scale
 * (DESIGN.md §5). Each is a hot set (L1 scale), a warm set (L2 scale), a tail (L3 scale)
 * touched over millions of instructions, and a stream that churns the L3, on both the code
 * and the data side; base CPI and mispredictions are properties of the program.
 *
 * Xalan (SPEC CPU 2006 XSLT processor) and SPEC JBB 2005 are calibrated on the paper's
 * baseline IPCs (1.46 and 0.97, Section 2) and on Fig. 2's Xalan columns; JBB shares every
 * other parameter of the model and is a check (Fig. 3).
 */
import type { FootprintSpec } from '../../model/footprint.js';

export interface UserProgram {
  footprint: FootprintSpec;
  /** The paper's baseline user IPC, which the footprint is calibrated to produce. */
  paperBaselineIpc: number;
}

export const XALAN: UserProgram = {
  paperBaselineIpc: 1.46,
  footprint: {
    name: 'xalan',
    mode: 'user',
    baseCpi: 0.306,
    missOverlap: 0.442,
    mispredictsPerKilo: 2,
    regions: [
      { name: 'code-hot', side: 'code', scope: 'shared', lines: 484, pattern: 'uniform', refsPerKilo: 59.26 },
      { name: 'code-warm', side: 'code', scope: 'shared', lines: 3997, pattern: 'uniform', refsPerKilo: 1.107 },
      { name: 'data-hot', side: 'data', scope: 'process', lines: 384, pattern: 'uniform', refsPerKilo: 173.92 },
      { name: 'data-warm', side: 'data', scope: 'process', lines: 3970, pattern: 'uniform', refsPerKilo: 5.71 },
      { name: 'data-tail', side: 'data', scope: 'process', lines: 55841, pattern: 'uniform', refsPerKilo: 0.861 },
      { name: 'data-stream', side: 'data', scope: 'process', lines: 1 << 20, pattern: 'sequential', refsPerKilo: 13 },
    ],
  },
};

export const SPECJBB: UserProgram = {
  paperBaselineIpc: 0.97,
  footprint: {
    name: 'specjbb',
    mode: 'user',
    baseCpi: 0.6,
    mispredictsPerKilo: 5,
    regions: [
      { name: 'code-hot', side: 'code', scope: 'shared', lines: 400, pattern: 'uniform', refsPerKilo: 60 },
      { name: 'code-warm', side: 'code', scope: 'shared', lines: 3000, pattern: 'uniform', refsPerKilo: 5 },
      { name: 'data-hot', side: 'data', scope: 'process', lines: 400, pattern: 'uniform', refsPerKilo: 250 },
      { name: 'data-warm', side: 'data', scope: 'process', lines: 4000, pattern: 'uniform', refsPerKilo: 15 },
      { name: 'data-tail', side: 'data', scope: 'process', lines: 40000, pattern: 'uniform', refsPerKilo: 4 },
      { name: 'data-stream', side: 'data', scope: 'process', lines: 1 << 20, pattern: 'sequential', refsPerKilo: 13 },
    ],
  },
};
