import { round } from './timing';

/** Latency summary of a set of samples (ms): nearest-rank percentiles. */
export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Samples above 500 ms: waits on a timer or a timeout rather than on work. */
  over500Ms: number;
}

/** The `p`-th percentile (0 < p ≤ 100) of ascending-sorted `sorted`, nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(samplesMs: ArrayLike<number>, digits = 3): LatencySummary {
  const arr = Array.from(Float64Array.from(samplesMs).sort());
  const sum = arr.reduce((s, v) => s + v, 0);
  return {
    count: arr.length,
    p50Ms: round(percentile(arr, 50), digits),
    p90Ms: round(percentile(arr, 90), digits),
    p99Ms: round(percentile(arr, 99), digits),
    maxMs: round(arr.length ? arr[arr.length - 1] : NaN, digits),
    meanMs: round(arr.length ? sum / arr.length : NaN, digits),
    over500Ms: arr.filter((v) => v > 500).length,
  };
}
