import { lockKey, type EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';

/**
 * Puts a job this runner took but must not run back at the head of wait (`giveBack-3.lua`).
 * Resolves true when it was put back, false when its lock was not ours any more.
 */
export async function giveBack(
  target: ScriptTarget,
  keys: EntityKeys,
  token: string,
  jobId: string,
): Promise<boolean> {
  const reply = await runScript(
    target,
    'giveBack',
    [keys.active, keys.wait, lockKey(keys, jobId)],
    [token, jobId],
  );
  return Number(reply) === 1;
}
