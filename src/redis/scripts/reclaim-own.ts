import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';

/**
 * Puts back, in order, the active jobs locked with `token` that the runner is not running
 * (`reclaimOwn-3.lua`): jobs moved to active by a command whose reply was lost. Resolves with
 * how many went back, or 'lost' when the lease is no longer this token's.
 */
export async function reclaimOwn(
  target: ScriptTarget,
  keys: EntityKeys,
  leaseKey: string,
  token: string,
  running: Iterable<string>,
): Promise<number | 'lost'> {
  const reply = Number(
    await runScript(
      target,
      'reclaimOwn',
      [keys.active, keys.wait, leaseKey],
      [token, keys.jobPrefix, ...running],
    ),
  );
  return reply === -1 ? 'lost' : reply;
}
