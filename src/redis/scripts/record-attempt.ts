import { jobKey, lockKey, type EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';

/**
 * Records a failed attempt that will be retried in place (`recordAttempt-2.lua`), fenced by the
 * job's lock. Resolves with the attempts made so far, or 'lost' when the lock is not ours.
 */
export async function recordAttempt(
  target: ScriptTarget,
  keys: EntityKeys,
  jobId: string,
  token: string,
  reason: string,
): Promise<number | 'lost'> {
  const made = Number(
    await runScript(
      target,
      'recordAttempt',
      [jobKey(keys, jobId), lockKey(keys, jobId)],
      [token, reason],
    ),
  );
  return made === -1 ? 'lost' : made;
}
