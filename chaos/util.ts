/** Small helpers shared by the chaos driver and its pod processes. */
import { trueNow } from '../support/faketime';

/**
 * Wall-clock milliseconds with sub-millisecond precision, comparable across processes, pods
 * started with a skewed clock included (support/faketime.ts).
 */
export const now = trueNow;

/** Nearest-rank percentile of `values` (p in 0..100); null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return Math.round(sorted[rank - 1]);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
