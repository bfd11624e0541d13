import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';
import type { KeepArgs } from './keep';

export type SkipReply =
  | { kind: 'not-paused' }
  | { kind: 'empty' }
  /** `waiters`: the pods awaiting the job's result; `kept`: it stays in the failed set. */
  | { kind: 'skipped'; jobId: string; waiters: string[]; kept: boolean };

/**
 * Moves the next job of a paused entity to failed without running it (`skipNext-4.lua`), with
 * `reason` and the error JSON it keeps (`aqe`), under the type's retention `keep`.
 */
export async function skipNext(
  target: ScriptTarget,
  keys: EntityKeys,
  reason: string,
  error: string,
  keep: KeepArgs,
): Promise<SkipReply> {
  const raw = (await runScript(
    target,
    'skipNext',
    [keys.wait, keys.meta, keys.failed, keys.events],
    [keys.jobPrefix, reason, error, keep[0], keep[1], keep[2]],
  )) as [number, string?, (string | null)?, number?];
  const code = Number(raw[0]);
  if (code === -1) return { kind: 'not-paused' };
  if (code === 0) return { kind: 'empty' };
  return {
    kind: 'skipped',
    jobId: String(raw[1]),
    waiters: raw[2] ? raw[2].split(',') : [],
    kept: Number(raw[3]) === 1,
  };
}
