import { jobKey, lockKey, type EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';
import { isScriptCode, refusal } from '../script-codes';

/** BullMQ's `removeOnComplete` as the script reads it: keep count, keep age (s) or '', limit. */
export type KeepArgs = readonly [count: number, age: number | '', limit: number];

export interface CompleteArgs {
  jobId: string;
  now: number;
  /** The return value as BullMQ stores it (JSON). */
  returnValue: string;
  /** The runner's lease token, the job's lock. */
  token: string;
  keep: KeepArgs;
  /** Take the entity's next job in the same call. */
  fetchNext: boolean;
  /** Lock duration of the next job, ms (the lease TTL). */
  lockMs: number;
  /** A result published with the complete (an awaiting pod's channel and message), if any. */
  reply?: { channel: string; message: string };
}

/**
 * What happened after the complete: no next job, a next job BullMQ must fetch (something
 * unusual is queued: a pause, priorities, a due delayed job), or the next job's raw hash
 * (BullMQ's fetch reply, for `raw2NextJobData`).
 */
export type CompleteReply = { next: 'none' } | { next: 'fetch' } | { next: 'job'; raw: unknown[] };

/**
 * Completes a runner's job and takes the entity's next one (`complete-11.lua`). Rejects with
 * LeaseLostError when the job's lock is not the runner's (BullMQ's codes, mapped by
 * {@link refusal}).
 */
export async function complete(
  target: ScriptTarget,
  keys: EntityKeys,
  args: CompleteArgs,
): Promise<CompleteReply> {
  const raw = (await runScript(
    target,
    'complete',
    [
      keys.wait,
      keys.active,
      keys.stalled,
      keys.events,
      keys.completed,
      jobKey(keys, args.jobId),
      lockKey(keys, args.jobId),
      keys.meta,
      keys.delayed,
      keys.prioritized,
      keys.marker,
    ],
    [
      args.jobId,
      args.now,
      args.returnValue,
      args.token,
      args.keep[0],
      args.keep[1],
      args.keep[2],
      args.fetchNext ? 1 : 0,
      keys.jobPrefix,
      args.lockMs,
      args.reply?.channel ?? '',
      args.reply?.message ?? '',
    ],
  )) as number | unknown[];
  if (Array.isArray(raw)) return { next: 'job', raw };
  if (raw === 1) return { next: 'fetch' };
  if (raw < 0 && isScriptCode(raw))
    throw refusal(raw, `complete job ${args.jobId} of ${keys.queueName}`);
  if (raw < 0) throw new Error(`complete-11.lua returned an unknown code ${raw}`);
  return { next: 'none' };
}
