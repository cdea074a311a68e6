/** Timing and small statistics helpers shared by benchmark sections. */

/**
 * CPU seconds (user + system) this process has used so far. Differences of it time a loop
 * without the time the process spends descheduled on a busy machine.
 */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * A seeded 32-bit PRNG (mulberry32-style: a Weyl sequence through an integer mixer). Used to
 * generate benchmark inputs only; the state is a 32-bit integer, so the bit operators are safe
 * here (they never touch addresses).
 */
export class StreamRng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform integer in [0, n), n ≤ 2^32. */
  below(n: number): number {
    return Math.floor((this.nextU32() / 2 ** 32) * n);
  }
}

/** Mean and standard error of the mean by batch means (for autocorrelated series). */
export interface BatchMeans {
  mean: number;
  stderr: number;
}

export function batchMeans(batchMeansList: readonly number[]): BatchMeans {
  const b = batchMeansList.length;
  const mean = batchMeansList.reduce((s, x) => s + x, 0) / b;
  const variance = batchMeansList.reduce((s, x) => s + (x - mean) ** 2, 0) / (b - 1);
  return { mean, stderr: Math.sqrt(variance / b) };
}

/** Formats a rate compactly: 12.3 M/s. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1e9) return `${(perSecond / 1e9).toFixed(2)} G/s`;
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} K/s`;
  return `${perSecond.toFixed(1)} /s`;
}
