import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';
import { guardArgs, guardedStateKeys } from './inspect';
import type { LeaseGuard } from './lease-guard';

/**
 * Gives a lease up whatever the queue holds (`relinquish-7.lua`, at shutdown or after a runner
 * error): 'lost' (not ours), 'empty' (released, no work) or 'work' (released, work waits).
 */
export async function relinquish(
  target: ScriptTarget,
  keys: EntityKeys,
  guard: LeaseGuard,
): Promise<'lost' | 'empty' | 'work'> {
  const result = Number(
    await runScript(target, 'relinquish', guardedStateKeys(keys, guard.leaseKey), guardArgs(guard)),
  );
  return result < 0 ? 'lost' : result === 1 ? 'work' : 'empty';
}
