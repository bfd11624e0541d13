import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';
import { selectionArgs, type FailedSelection } from './retry-failed';

/** What a removal did: the jobs removed (oldest failure first), those not failed, what's left. */
export interface RemoveFailedReply {
  removed: string[];
  notFound: string[];
  remaining: number;
}

/** Removes failed jobs of an entity, a page of the oldest or some ids (`removeFailed-3.lua`). */
export async function removeFailed(
  target: ScriptTarget,
  keys: EntityKeys,
  which: FailedSelection,
): Promise<RemoveFailedReply> {
  const [removed, notFound, remaining] = (await runScript(
    target,
    'removeFailed',
    [keys.failed, keys.meta, keys.events],
    selectionArgs(keys, which),
  )) as [string[], string[], number];
  return { removed, notFound, remaining: Number(remaining) };
}
