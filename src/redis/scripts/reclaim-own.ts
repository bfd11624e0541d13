import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';
import type { LeaseGuard } from './lease-guard';

/**
 * Puts back, in order, the active jobs locked with the holder's token that it is not running
 * (`reclaimOwn-4.lua`): jobs moved to active by a command whose reply was lost. Resolves with
 * how many went back, or 'lost' when the lease is no longer this holder's.
 */
export async function reclaimOwn(
  target: ScriptTarget,
  keys: EntityKeys,
  guard: LeaseGuard,
  running: Iterable<string>,
): Promise<number | 'lost'> {
  const reply = Number(
    await runScript(
      target,
      'reclaimOwn',
      [keys.active, keys.wait, guard.leaseKey, keys.fence],
      [guard.token, keys.jobPrefix, guard.fence, guard.podId, guard.ttlMs, ...running],
    ),
  );
  return reply === -1 ? 'lost' : reply;
}
