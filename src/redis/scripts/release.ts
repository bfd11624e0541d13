import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';
import { stateKeys } from './inspect';

/**
 * Releases an idle entity's lease only if its queue is empty (`release-6.lua`): 'released',
 * 'kept' (work arrived) or 'lost' (the lease is not ours).
 */
export async function release(
  target: ScriptTarget,
  keys: EntityKeys,
  leaseKey: string,
  token: string,
): Promise<'released' | 'kept' | 'lost'> {
  const result = Number(await runScript(target, 'release', stateKeys(keys, leaseKey), [token]));
  return result === 1 ? 'released' : result === -1 ? 'lost' : 'kept';
}
