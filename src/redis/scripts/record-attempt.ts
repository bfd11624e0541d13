import { jobKey, lockKey, type EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';
import type { LeaseGuard } from './lease-guard';

/**
 * Records failed attempt number `attempt` (1 for the first) of a job that will be retried in
 * place (`recordAttempt-4.lua`), fenced by the job's lock; safe to run twice. Resolves with the
 * attempts made so far, or 'lost' when the lock is not ours.
 */
export async function recordAttempt(
  target: ScriptTarget,
  keys: EntityKeys,
  guard: LeaseGuard,
  jobId: string,
  reason: string,
  attempt: number,
): Promise<number | 'lost'> {
  const made = Number(
    await runScript(
      target,
      'recordAttempt',
      [jobKey(keys, jobId), lockKey(keys, jobId), guard.leaseKey, keys.fence],
      [guard.token, reason, guard.fence, guard.podId, guard.ttlMs, attempt],
    ),
  );
  return made === -1 ? 'lost' : made;
}
