/**
 * Summary statistics of a run: confidence intervals by batch means (Student's t quantile
 * from jstat), and latency distributions in a fixed-memory HDR histogram, so memory stays
 * flat however many requests a run measures.
 */
import { deviation, mean } from 'd3-array';
import * as hdr from 'hdr-histogram-js';
import jstat from 'jstat';

/**
 * Half-width of the 95 % confidence interval of the mean of `batches` (batch means), as a
 * percentage of that mean. Needs at least two batches.
 */
export function ci95Pct(batches: readonly number[]): number {
  if (batches.length < 2) throw new RangeError('a confidence interval needs at least two batch means');
  const m = mean(batches)!;
  const sd = deviation(batches)!;
  const t = jstat.studentt.inv(0.975, batches.length - 1);
  return m === 0 ? 0 : (100 * t * sd) / Math.sqrt(batches.length) / m;
}

/**
 * The trend of a series of batch means (in order): the least-squares line through them,
 * as the relative change from the first batch to the last (`driftPct`, percent of the
 * mean) and that change's 95 % half-width (`halfWidthPct`, Student's t with n − 2 degrees
 * of freedom). A stationary series has a drift indistinguishable from zero. Needs at least
 * three batches.
 */
export function trendPct(batches: readonly number[]): { driftPct: number; halfWidthPct: number } {
  const n = batches.length;
  if (n < 3) throw new RangeError('a trend needs at least three batch means');
  const m = mean(batches)!;
  const xm = (n - 1) / 2;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (i - xm) ** 2;
    sxy += (i - xm) * (batches[i] - m);
  }
  const slope = sxy / sxx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (batches[i] - m - slope * (i - xm)) ** 2;
  const seSlope = Math.sqrt(sse / (n - 2) / sxx);
  const t = jstat.studentt.inv(0.975, n - 2);
  if (m === 0) return { driftPct: 0, halfWidthPct: 0 };
  return { driftPct: (100 * slope * (n - 1)) / m, halfWidthPct: (100 * t * seSlope * (n - 1)) / Math.abs(m) };
}

/** Latencies (in cycles) in an HDR histogram: 3 significant digits, fixed memory. */
export class LatencyHistogram {
  private readonly h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e15, numberOfSignificantValueDigits: 3, bitBucketSize: 'packed', useWebAssembly: false });
  private sum = 0;

  record(cycles: number): void {
    const v = Math.max(1, Math.round(cycles));
    this.h.recordValue(v);
    this.sum += cycles;
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** Exact mean (kept beside the histogram, whose buckets round). */
  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  percentile(p: number): number {
    return this.h.getValueAtPercentile(p);
  }
}
