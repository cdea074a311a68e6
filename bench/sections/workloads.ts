/**
 * Sections `apache`, `mysql` and `scaling`: how fast the whole simulator runs the server
 * workloads, in simulated instructions per host CPU second (MIPS), and how time and memory
 * grow with the number of requests. CPU time (not wall time) is measured, so a busy
 * machine slows the figures less; each MIPS figure is also given per simulated reference
 * rate of the bare cache array (`cache` section) where that ran in the same process.
 */
import { buildRunConfig } from '../../src/run-config.js';
import { serverWorkload, type WorkloadId } from '../../src/workloads/server/points.js';
import { runServer, type Mechanism } from '../../src/workloads/server/server.js';
import { cpuSeconds } from '../lib/measure.js';
import type { BenchContext, BenchSection } from '../section.js';

const config = buildRunConfig('nehalem-2010');

function mips(workload: WorkloadId, cores: number, mechanism: Mechanism, requests: number, concurrency: number): { mips: number; seconds: number } {
  const t0 = cpuSeconds();
  const r = runServer(config, serverWorkload(workload), { cores, concurrency, mechanism, seed: 1, warmup: Math.ceil(requests / 4), measured: requests });
  const s = cpuSeconds() - t0;
  return { mips: r.simulatedInstructions / s / 1e6, seconds: s };
}

function workloadSection(name: 'apache' | 'mysql', requests: number, concurrency: number): BenchSection {
  return {
    name,
    title: `simulated MIPS on the ${name === 'apache' ? 'Apache' : 'MySQL'}-like workload, sync and FlexSC, 1 and 4 cores`,
    async run(ctx: BenchContext) {
      const out: Record<string, number> = {};
      let sum = 0;
      let n = 0;
      for (const cores of [1, 4]) {
        for (const mechanism of ['sync', 'flexsc'] as const) {
          const r = mips(name, cores, mechanism, requests, concurrency);
          ctx.log(`${cores} core${cores === 1 ? '' : 's'}, ${mechanism}: ${r.mips.toFixed(1)} MIPS (${r.seconds.toFixed(1)} CPU s)`);
          out[`${name}_mips_${cores}c_${mechanism}`] = r.mips;
          sum += r.mips;
          n++;
        }
      }
      out[`${name}_sim_mips`] = sum / n;
      return out;
    },
  };
}

export const apacheSection = workloadSection('apache', 1500, 64);
export const mysqlSection = workloadSection('mysql', 24, 16);

/**
 * Scaling: the BIND-like workload (cheap requests) for 1 k, 10 k and 100 k measured
 * requests: CPU time should grow linearly and peak memory stay flat (latencies go to a
 * fixed-memory histogram; footprint instances are bounded).
 */
export const scalingSection: BenchSection = {
  name: 'scaling',
  title: 'time and peak memory for 1k, 10k and 100k requests (BIND-like, 1 core)',
  async run(ctx: BenchContext) {
    const out: Record<string, number> = {};
    const rows: { n: number; s: number; heap: number }[] = [];
    for (const n of [1_000, 10_000, 100_000]) {
      global.gc?.();
      let peak = process.memoryUsage().heapUsed;
      const timer = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      }, 50);
      timer.unref();
      const t0 = cpuSeconds();
      runServer(config, serverWorkload('bind'), { cores: 1, concurrency: 16, mechanism: 'sync', seed: 1, warmup: 500, measured: n });
      const s = cpuSeconds() - t0;
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().heapUsed);
      rows.push({ n, s, heap: peak / 2 ** 20 });
      ctx.log(`${n} requests: ${s.toFixed(1)} CPU s, peak heap ${(peak / 2 ** 20).toFixed(0)} MiB`);
      out[`scaling_${n / 1000}k_cpu_s`] = s;
      out[`scaling_${n / 1000}k_peak_heap_mib`] = peak / 2 ** 20;
    }
    out.scaling_time_ratio_100k_vs_10k = rows[2].s / rows[1].s;
    out.scaling_heap_ratio_100k_vs_1k = rows[2].heap / rows[0].heap;
    return out;
  },
};
