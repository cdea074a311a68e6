/**
 * The `cache` command: runs cachegrind's cache simulation (src/hw/cachegrind.ts) over a
 * valgrind lackey trace (src/workloads/trace/lackey.ts) and prints cachegrind's
 * counters, either as cachegrind's end-of-run summary or as one JSON object.
 */
import {
  CACHEGRIND_EVENTS,
  CachegrindSim,
  describeGeometry,
  formatCachegrindSummary,
  parseCacheOption,
  type CachegrindConfig,
  type CachegrindCounts,
} from '../hw/cachegrind.js';
import { FileInputError, InputError } from '../errors.js';
import { readLackey } from '../workloads/trace/lackey.js';

export interface CacheOptions {
  /** `size,assoc,line_size` in bytes, as cachegrind's --I1/--D1/--LL take them. */
  I1?: string;
  D1?: string;
  LL?: string;
  /** Print one JSON object instead of the human summary. */
  json?: boolean;
}

/** Parses the three cache options, falling back to the defaults (e.g. a machine preset). */
export function cacheConfig(opts: CacheOptions, defaults: { I1: string; D1: string; LL: string }): CachegrindConfig {
  return {
    I1: parseCacheOption('--I1', opts.I1 ?? defaults.I1),
    D1: parseCacheOption('--D1', opts.D1 ?? defaults.D1),
    LL: parseCacheOption('--LL', opts.LL ?? defaults.LL),
  };
}

/** Simulates the whole trace file and returns cachegrind's nine counters. */
export async function simulateTrace(trace: string, config: CachegrindConfig): Promise<CachegrindCounts> {
  const sim = new CachegrindSim(config);
  for await (const batch of readLackey(trace)) {
    try {
      sim.run(batch.count, batch.kinds, batch.addrs, batch.sizes);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      // find the offending record to name its line (the error is rare: re-check one by one)
      const probe = new CachegrindSim(config);
      for (let i = 0; i < batch.count; i++) {
        try {
          probe.run(1, [batch.kinds[i]], [batch.addrs[i]], [batch.sizes[i]]);
        } catch (e) {
          if (e instanceof InputError) throw new FileInputError(trace, batch.lines[i], e.message);
          throw e;
        }
      }
      throw err;
    }
  }
  return sim.counts();
}

export async function cacheCommand(
  trace: string,
  opts: { I1?: string; D1?: string; LL?: string; json?: boolean },
  defaults: { I1: string; D1: string; LL: string },
  write: (text: string) => void,
): Promise<void> {
  const config = cacheConfig(opts, defaults);
  const counts = await simulateTrace(trace, config);
  if (opts.json) {
    const ordered = Object.fromEntries(CACHEGRIND_EVENTS.map((e) => [e, counts[e]]));
    write(`${JSON.stringify(ordered)}\n`);
    return;
  }
  write(
    `I1 cache:         ${describeGeometry(config.I1)}\n` +
      `D1 cache:         ${describeGeometry(config.D1)}\n` +
      `LL cache:         ${describeGeometry(config.LL)}\n` +
      '\n' +
      formatCachegrindSummary(counts),
  );
}
