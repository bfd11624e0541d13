import type { EntityKeys } from '../keys';
import { jobKey } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';

/** One job for `add-8.lua`: a standalone job, neither delayed nor prioritized. */
export interface AddJobArgs {
  jobId: string;
  name: string;
  /** The payload as JSON. */
  data: string;
  /** The job's options as BullMQ stores them (JSON). */
  opts: string;
  /** The pod awaiting the result (enqueueAndWait), if any. */
  awaitingPod?: string;
  /** Events stream length (BullMQ's maxLenEvents); 0: no events. */
  eventsMaxLen: number;
  /** The enqueue's trace context (`aqt`: traceparent, then a space and tracestate), if any. */
  trace?: string;
}

/**
 * What became of an add, and of a job awaited by id: `added` (new), `pending` (the id existed and
 * has not finished; the awaiting pod, if any, now waits for it), `completed` / `failed` (the id
 * existed and finished: its stored result or error, as JSON), `missing` (no such job).
 */
export type JobReply =
  | { kind: 'added' }
  | { kind: 'pending' }
  | { kind: 'completed'; value: string }
  | { kind: 'failed'; error: string }
  | { kind: 'missing' };

/** The queue's keys both add scripts take first (the scripts build the job keys from them). */
function queueKeys(keys: EntityKeys): string[] {
  return [keys.wait, keys.meta, keys.completed, keys.active, keys.events, keys.marker, keys.failed];
}

/**
 * Queues `add-8.lua` on `target` (synchronously: on a pipeline its place is fixed now). The
 * reply, once the target answers, goes through {@link decodeJobReply}.
 */
export function sendAdd(target: ScriptTarget, keys: EntityKeys, job: AddJobArgs): Promise<unknown> {
  const args: (string | number)[] = [
    job.jobId,
    job.name,
    job.data,
    job.opts,
    job.awaitingPod ?? '',
    job.eventsMaxLen,
  ];
  // Only traced jobs pay for the argument.
  if (job.trace !== undefined) args.push(job.trace);
  return runScript(target, 'add', [...queueKeys(keys), jobKey(keys, job.jobId)], args);
}

/** One job for `addMany-7.lua`: {@link AddJobArgs} but the events length, which is the call's. */
export type AddManyJobArgs = Omit<AddJobArgs, 'eventsMaxLen'>;

/** Jobs per `addMany-7.lua` call: ~1 ms of Redis at most, so that one call does not hold it up. */
export const ADD_MANY_MAX_JOBS = 100;

/**
 * Queues `addMany-7.lua` on `target`: the jobs of one entity, in order (at most
 * {@link ADD_MANY_MAX_JOBS}). The reply has one entry per job, each for {@link decodeJobReply}.
 */
export function sendAddMany(
  target: ScriptTarget,
  keys: EntityKeys,
  eventsMaxLen: number,
  jobs: ReadonlyArray<AddManyJobArgs>,
): Promise<unknown> {
  const args: (string | number)[] = [eventsMaxLen];
  for (const job of jobs)
    args.push(job.jobId, job.name, job.data, job.opts, job.awaitingPod ?? '', job.trace ?? '');
  return runScript(target, 'addMany', queueKeys(keys), args);
}

/** Decodes the reply of `add-8.lua` or `await-3.lua`. */
// The replies without a value, made once: every job an enqueue adds is decoded.
const ADDED: JobReply = Object.freeze({ kind: 'added' });
const PENDING: JobReply = Object.freeze({ kind: 'pending' });
const MISSING: JobReply = Object.freeze({ kind: 'missing' });

export function decodeJobReply(raw: unknown): JobReply {
  const reply = raw as [number, string?];
  switch (Number(reply[0])) {
    case 0:
      return ADDED;
    case 1:
      return PENDING;
    case 2:
      return { kind: 'completed', value: String(reply[1]) };
    case 3:
      return { kind: 'failed', error: String(reply[1]) };
    case 4:
      return MISSING;
    default:
      throw new Error(`Unexpected job reply ${JSON.stringify(raw)}`);
  }
}
