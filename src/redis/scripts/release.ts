import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';
import { guardArgs, guardedStateKeys } from './inspect';
import type { LeaseGuard } from './lease-guard';

/**
 * Releases an idle entity's lease only if its queue is empty (`release-7.lua`): 'released',
 * 'kept' (work arrived) or 'lost' (the lease is not ours).
 */
export async function release(
  target: ScriptTarget,
  keys: EntityKeys,
  guard: LeaseGuard,
): Promise<'released' | 'kept' | 'lost'> {
  const result = Number(
    await runScript(target, 'release', guardedStateKeys(keys, guard.leaseKey), guardArgs(guard)),
  );
  return result === 1 ? 'released' : result === -1 ? 'lost' : 'kept';
}
