import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';

/** Which failed jobs an operator's call acts on: some ids, or a page of all of them. */
export type FailedSelection = { ids: readonly string[] } | { page: number };

/** What a retry did: the jobs put back (in the order they run), those not failed, what's left. */
export interface RetryFailedReply {
  retried: string[];
  notFound: string[];
  /** Failed jobs the entity still keeps. */
  remaining: number;
  /** The entity is paused: the jobs wait for a resume. */
  paused: boolean;
}

/**
 * Puts failed jobs back at the head of the entity's wait list, oldest failure first
 * (`retryFailed-5.lua`). A page of all of them takes the newest `page` jobs: call again until
 * none is left, and the oldest end up first.
 */
export async function retryFailed(
  target: ScriptTarget,
  keys: EntityKeys,
  which: FailedSelection,
): Promise<RetryFailedReply> {
  const [retried, notFound, remaining, paused] = (await runScript(
    target,
    'retryFailed',
    [keys.failed, keys.wait, keys.meta, keys.events, keys.marker],
    selectionArgs(keys, which),
  )) as [string[], string[], number, number];
  return { retried, notFound, remaining: Number(remaining), paused: Number(paused) === 1 };
}

/** The ARGV of retryFailed-5.lua and removeFailed-3.lua for a selection. */
export function selectionArgs(keys: EntityKeys, which: FailedSelection): (string | number)[] {
  return 'page' in which ? [keys.jobPrefix, which.page] : [keys.jobPrefix, '', ...which.ids];
}
