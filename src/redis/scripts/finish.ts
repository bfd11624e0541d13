import { jobKey, lockKey, type EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';
import { isScriptCode, refusal } from '../script-codes';
import type { LeaseGuard } from './lease-guard';

/** BullMQ's keepJobs as the scripts read it: keep count (-1 any), keep age (s) or '', limit. */
export type KeepArgs = readonly [count: number, age: number | '', limit: number];

interface FinishBase {
  jobId: string;
  keep: KeepArgs;
  /** Take the entity's next job in the same call. */
  fetchNext: boolean;
  /** A result published by the script to each awaiting pod but this one, if given. */
  reply?: { channelPrefix: string; message: string };
}

/** A job to move to completed. */
export interface CompleteArgs extends FinishBase {
  status: 'completed';
  /** The return value as BullMQ stores it (JSON). */
  returnValue: string;
}

/** A job to move to failed after its last attempt. */
export interface FailArgs extends FinishBase {
  status: 'failed';
  reason: string;
  /** The error as JSON (the job's `aqe` field: name, message, stack, cause, own fields). */
  error: string;
  /** BullMQ's `stacktrace` field: a JSON array of stacks. */
  stacktrace: string;
  /** Pause the entity (onFailure: 'pause'); no next job is taken then. */
  pause: boolean;
}

/**
 * What happened after the finish: no next job, a next job BullMQ must fetch (a prioritized job
 * or a legacy marker is next), or the next job's raw hash (BullMQ's fetch reply, for
 * `raw2NextJobData`); and the pods awaiting the job's result.
 */
export type FinishReply = (
  { next: 'none' } | { next: 'fetch' } | { next: 'job'; raw: unknown[] }
) & { waiters: string[] };

/**
 * Finishes a runner's job and takes the entity's next one (`finish-13.lua`). Rejects with
 * LeaseLostError when the job's lock is not the runner's and its lease moved on (BullMQ's codes,
 * mapped by {@link refusal}).
 */
export async function finish(
  target: ScriptTarget,
  keys: EntityKeys,
  guard: LeaseGuard,
  args: CompleteArgs | FailArgs,
): Promise<FinishReply> {
  const failed = args.status === 'failed';
  const raw = (await runScript(
    target,
    'finish',
    [
      keys.wait,
      keys.active,
      keys.stalled,
      keys.events,
      failed ? keys.failed : keys.completed,
      jobKey(keys, args.jobId),
      lockKey(keys, args.jobId),
      keys.meta,
      keys.delayed,
      keys.prioritized,
      keys.marker,
      guard.leaseKey,
      keys.fence,
    ],
    [
      args.jobId,
      args.status,
      failed ? args.reason : args.returnValue,
      guard.token,
      args.keep[0],
      args.keep[1],
      args.keep[2],
      args.fetchNext ? 1 : 0,
      keys.jobPrefix,
      guard.ttlMs,
      guard.fence,
      guard.podId,
      args.reply?.channelPrefix ?? '',
      args.reply?.message ?? '',
      failed ? args.error : '',
      failed ? args.stacktrace : '',
      failed && args.pause ? 1 : 0,
    ],
  )) as [number, string | null, unknown[]?, string?];
  const code = Number(raw[0]);
  if (code < 0) {
    if (isScriptCode(code))
      throw refusal(
        code,
        `${args.status === 'failed' ? 'fail' : 'complete'} job ${args.jobId} of ${keys.queueName}`,
      );
    throw new Error(`finish-13.lua returned an unknown code ${code}`);
  }
  const waiters = raw[1] ? raw[1].split(',') : [];
  if (code === 2) return { next: 'job', raw: [raw[2], raw[3]], waiters };
  if (code === 1) return { next: 'fetch', waiters };
  return { next: 'none', waiters };
}
