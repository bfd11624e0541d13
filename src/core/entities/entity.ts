import type { Job, KeepJobs, RedisQueueBackend } from 'bullmq';
import { EntityQueue } from '../../redis/entity-queue';
import type { EntityKeys, KeyBuilder } from '../../redis/keys';
import type { KeepArgs } from '../../redis/scripts/keep';
import type { TakenJob } from '../../redis/scripts/step';
import type { ResolvedEntityType } from '../options/resolved-options';
import { entityRef } from './entity-ref';

/**
 * The options (BullMQ's `opts` field) stored with every job the engine adds: only BullMQ's
 * `attempts: 0` (the engine retries in place). Retention is the entity type's, applied by the
 * engine's scripts, and the id is the job's key: neither is repeated in each job. Kept short on
 * purpose: Redis stores a hash as a compact listpack only while every value is at most
 * `hash-max-listpack-value` bytes (64 by default); BullMQ's usual options JSON (~130 bytes with
 * the retention) tripled a finished job's memory (~1,160 bytes against ~330).
 */
export const STORED_OPTS = '{"attempts":0}';
const STORED_OPTS_PARSED = Object.freeze({ attempts: 0 });

/** Events kept per entity stream, as BullMQ's default maxLenEvents. */
const EVENTS_MAX_LEN = 10_000;

/** Everything needed to address one entity in Redis; built once per entity and cached. */
export class EntityHandle {
  /** Stable identity, also the member stored in spawn, wake and index sets. */
  readonly ref: string;
  readonly keys: EntityKeys;
  /** `removeOnComplete` / `removeOnFail` as the scripts read them. */
  readonly keepCompleted: KeepArgs;
  readonly keepFailed: KeepArgs;
  private queueCache?: EntityQueue;

  constructor(
    readonly config: ResolvedEntityType,
    readonly id: string,
    readonly queueName: string,
    keys: KeyBuilder,
    private readonly root: RedisQueueBackend,
    private readonly lockDurationMs: number,
  ) {
    this.ref = entityRef(config.type, id);
    this.keys = keys.entityKeys(queueName);
    this.keepCompleted = keepJobsArgs(config.removeOnComplete);
    this.keepFailed = keepJobsArgs(config.removeOnFail);
  }

  get type(): string {
    return this.config.type;
  }

  /** Length of the entity's events stream (BullMQ's maxLenEvents); 0 when events are off. */
  get eventsMaxLen(): number {
    return this.config.events ? EVENTS_MAX_LEN : 0;
  }

  /**
   * The entity's BullMQ queue object, made on first use: enqueuing needs none, so a pod that
   * only enqueues to many entities does not pay for one each.
   */
  get queue(): EntityQueue {
    this.queueCache ??= EntityQueue.of(
      this.root,
      this.keys,
      this.keys.jobPrefix.slice(0, -(this.queueName.length + 2)),
      this.lockDurationMs,
    );
    return this.queueCache;
  }

  /** A job taken by a step, as BullMQ's `Job` locked with `token`. */
  toJob(taken: TakenJob, token: string): Job {
    return this.queue.jobFromTaken(taken, token, parseOpts);
  }

  /** The options stored with each job this entity's producers add: see {@link STORED_OPTS}. */
  get storedOpts(): string {
    return STORED_OPTS;
  }
}

/** BullMQ's reading of `removeOnComplete` (true: remove now; false: keep all; n: keep n). */
function keepJobsArgs(keep: boolean | number | KeepJobs): KeepArgs {
  if (typeof keep === 'boolean') return [keep ? 0 : -1, '', 1000];
  if (typeof keep === 'number') return [keep, '', 1000];
  const { count, age, limit } = keep as { count?: number; age?: number; limit?: number };
  return [count ?? -1, age ?? '', limit ?? 1000];
}

/**
 * A job's stored options (JSON), as BullMQ reads them back. Jobs the engine adds carry
 * {@link STORED_OPTS}: parsed once, copied by BullMQ's `Job` constructor.
 */
function parseOpts(raw: string | undefined): object {
  if (!raw) return {};
  if (raw === STORED_OPTS) return STORED_OPTS_PARSED;
  try {
    return JSON.parse(raw) as object;
  } catch {
    return {};
  }
}
