import { Job, type IQueueBackend } from 'bullmq';
import { EntityQueue } from '../../redis/entity-queue';
import type { ResolvedEntityType } from '../options/resolved-options';

export type StoredJobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

/** One job as the in-memory engine stores it: the fields BullMQ keeps in a job's hash. */
export interface StoredJob {
  readonly id: string;
  readonly name: string;
  /** The payload as stored (JSON): handlers get it parsed, as from Redis. */
  readonly json: string;
  /** When it was enqueued, on the engine's clock. */
  readonly timestamp: number;
  /** Enqueue order within the engine: orders delayed jobs due at the same time. */
  readonly seq: number;
  /** The `delay` it was enqueued with, if any. */
  readonly delay?: number;
  state: StoredJobState;
  /** When a delayed job may run. */
  dueAt: number;
  /** Failed attempts recorded (retries in place). */
  attemptsMade: number;
  /** Times it was found orphaned by a lease loss. */
  stalledCount: number;
  /** Set past `maxStalledCount`: its next run fails it with this reason without running it. */
  deferredFailure?: string;
  processedOn?: number;
  finishedOn?: number;
  /** As BullMQ stores them: the result's JSON; the serialized error's JSON and its message. */
  returnvalue?: string;
  error?: string;
  failedReason?: string;
}

/** One call of a handler, as `InMemoryEngine.runs()` lists it. */
export interface JobRun {
  readonly entityType: string;
  readonly entityId: string;
  readonly jobId: string;
  readonly name: string;
  /** The payload as the handler got it (parsed from its JSON). */
  readonly data: unknown;
  /** 1 on the first run, 2 on the first retry, ... */
  readonly attempt: number;
  readonly fencingToken: number;
  /**
   * `running`; then `completed`, `failed` (its last attempt), `retrying` (it will run again), or
   * `lost`: the lease was lost meanwhile, so what it returned or threw was dropped.
   */
  status: 'running' | 'completed' | 'failed' | 'retrying' | 'lost';
  /** What the handler returned (`completed`) or threw (`failed`, `retrying`). */
  result?: unknown;
  error?: unknown;
}

/**
 * The BullMQ backend of an entity of the in-memory engine: its names, and every call rejects,
 * naming the job method that would reach Redis (`updateProgress`, `log`, ...).
 */
function noRedis(qualifiedName: string): IQueueBackend {
  const names: Record<string, unknown> = {
    qualifiedName,
    keys: {},
    toKey: (type: string) => `${qualifiedName}:${type}`,
  };
  return new Proxy(names as unknown as IQueueBackend, {
    get: (_target, member) => {
      if (typeof member !== 'string') return undefined;
      if (member in names) return names[member];
      return () =>
        Promise.reject(
          new Error(
            `${member}() needs Redis, which the in-memory engine of atomic-queues/testing does ` +
              'not have: run this test against AtomicEngine',
          ),
        );
    },
  });
}

/**
 * The BullMQ `Job` a handler gets for a stored job, with the fields the Redis engine's jobs
 * have (id, name, parsed data, options, timestamps, attempts), on the Redis engine's small
 * queue object; methods that would reach Redis (`updateProgress`, `log`, ...) reject.
 */
export function bullJob(
  stored: StoredJob,
  config: ResolvedEntityType,
  queueName: string,
  prefix: string,
  token: string,
): Job {
  const opts = {
    attempts: 0,
    removeOnComplete: config.removeOnComplete,
    removeOnFail: config.removeOnFail,
    jobId: stored.id,
    ...(stored.delay === undefined ? {} : { delay: stored.delay }),
  };
  const job = new Job(
    new EntityQueue(queueName, noRedis(`${prefix}:${queueName}`), prefix, 0),
    stored.name,
    JSON.parse(stored.json) as unknown,
    opts,
    stored.id,
  );
  job.timestamp = stored.timestamp;
  job.attemptsMade = stored.attemptsMade;
  job.attemptsStarted = stored.attemptsMade + 1;
  job.stalledCounter = stored.stalledCount;
  job.processedOn = stored.processedOn;
  job.token = token;
  return job;
}
