/**
 * The paper's §5.1 micro-benchmark (Figs. 9–10): one thread issues `getppid` in batches of
 * B — exception-less, it posts B entries and waits for them (FlexSC-Threads with one user
 * thread: post all, nothing else to run, nothing done, so flexsc_wait); synchronous, it
 * makes B ordinary calls. The syscall thread runs on the same core (Fig. 9) or on another
 * core (Fig. 10: the worst case, where that core has no syscall thread running and must be
 * woken for every batch). Reported: simulated nanoseconds per call, after a warm-up.
 */
import { FlexscThreads } from '../../model/flexsc-threads.js';
import type { FootprintSpec } from '../../model/footprint.js';
import { Kernel } from '../../model/kernel.js';
import type { Action, Program } from '../../model/program.js';
import { NptlThread } from '../../model/sync-path.js';
import { InputError } from '../../errors.js';
import type { RunConfig } from '../../run-config.js';

/** The benchmark's loop: a couple of hot code lines (its user work between batches is negligible). */
const LOOP: FootprintSpec = {
  name: 'getppid-loop',
  mode: 'user',
  baseCpi: 1,
  mispredictsPerKilo: 0,
  regions: [{ name: 'code', side: 'code', scope: 'shared', lines: 2, pattern: 'uniform', refsPerKilo: 100 }],
};

export interface GetppidOptions {
  mechanism: 'sync' | 'flexsc';
  batch: number;
  /** Core of the syscall threads ('same-core': the caller's, core 0; 'remote-core': core 1). */
  placement: 'same-core' | 'remote-core';
  warmupBatches: number;
  measuredBatches: number;
  seed: number;
}

export interface GetppidResult {
  nsPerCall: number;
  cyclesPerCall: number;
  kernel: Kernel;
}

export function runGetppid(config: RunConfig, opts: GetppidOptions): GetppidResult {
  const cfg = structuredClone(config);
  if (opts.placement === 'remote-core' && cfg.hw.cores < 2) {
    throw new InputError(`hw.cores: the remote-core benchmark (fig10) needs at least 2 cores, the configuration has ${cfg.hw.cores}`);
  }
  cfg.os.flexsc.syscallCores = opts.placement === 'same-core' ? '0' : '1';
  const k = new Kernel({ config: cfg, seed: opts.seed });
  const proc = k.createProcess('getppid-bench', LOOP);
  let t0 = 0;
  let t1 = 0;
  function* loop(): Generator<Action, void, undefined> {
    for (let i = 0; i < opts.warmupBatches + opts.measuredBatches; i++) {
      if (i === opts.warmupBatches) t0 = k.now;
      yield { kind: 'batch', calls: Array.from({ length: opts.batch }, () => ({ name: 'getppid' })) };
    }
    t1 = k.now;
  }
  const program: Program = loop();
  if (opts.mechanism === 'sync') {
    const t = new NptlThread(k, 'caller', proc, program, 0);
    t.pinned = 0;
    k.start(t);
  } else {
    new FlexscThreads(k, proc).spawn('caller', program);
  }
  k.run();
  k.checkCycleStacks();
  const cycles = (t1 - t0) / (opts.measuredBatches * opts.batch);
  return { cyclesPerCall: cycles, nsPerCall: cycles / cfg.hw.ghz, kernel: k };
}
