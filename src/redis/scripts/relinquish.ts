import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';
import { stateKeys } from './inspect';

/**
 * Gives a lease up whatever the queue holds (`relinquish-6.lua`, at shutdown or after a runner
 * error): 'lost' (not ours), 'empty' (released, no work) or 'work' (released, work waits).
 */
export async function relinquish(
  target: ScriptTarget,
  keys: EntityKeys,
  leaseKey: string,
  token: string,
): Promise<'lost' | 'empty' | 'work'> {
  const result = Number(await runScript(target, 'relinquish', stateKeys(keys, leaseKey), [token]));
  return result < 0 ? 'lost' : result === 1 ? 'work' : 'empty';
}
