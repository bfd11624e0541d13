import type { BackoffOptions } from '../options/atomic-queues-options';

/** Milliseconds to wait before retrying after failed attempt number `attempt` (1-based). */
export function backoffDelay(backoff: BackoffOptions | undefined, attempt: number): number {
  if (!backoff) return 0;
  return backoff.type === 'fixed' ? backoff.delay : backoff.delay * 2 ** (attempt - 1);
}

/** Pause before retrying a Redis call that failed `failures` times in a row: 100 ms to 2 s. */
export function retryDelay(failures: number): number {
  return Math.min(2000, 100 * 2 ** failures);
}
