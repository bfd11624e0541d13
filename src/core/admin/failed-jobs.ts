import {
  EntityNotPausedError,
  InvalidOptionsError,
  UnknownEntityTypeError,
  type SerializedError,
} from '../../errors';
import { isCluster, type RedisClient } from '../../redis/connections';
import { failedPage } from '../../redis/scripts/failed-page';
import { removeFailed } from '../../redis/scripts/remove-failed';
import { retryFailed, type FailedSelection } from '../../redis/scripts/retry-failed';
import { skipNext } from '../../redis/scripts/skip-next';
import type { EntityCatalog } from '../entities/entity-catalog';
import type { EntityHandle } from '../entities/entity';
import type { Claims } from '../placement/claims';
import type { ReplySender } from '../replies/reply-sender';
import type { FailedIndex } from './failed-index';

/** Where a page of a listing starts, and how long it is (1 to 1,000; default 100). */
export interface PageOptions {
  offset?: number;
  limit?: number;
}

/** One page of a listing: `nextOffset` is where the next page starts, null after the last one. */
export interface ListPage<T> {
  items: T[];
  /** How many there are in all (a page may hold fewer than `limit` of them, see the listing). */
  total: number;
  nextOffset: number | null;
}

/** A failed job of an entity, as an operator looks at it. */
export interface FailedJob {
  id: string;
  name: string;
  /** The job's data (parsed JSON). */
  data: unknown;
  failedReason: string;
  /** Attempts made (the handler ran this many times). */
  attemptsMade: number;
  /** When it failed, ms since epoch (Redis's clock). */
  finishedOn: number | null;
  /** The error the handler threw (name, message, stack, cause, own fields), when the engine failed it. */
  error: SerializedError | null;
}

/** An entity that keeps failed jobs. */
export interface FailedEntity {
  entityType: string;
  entityId: string;
  /** When the first of its kept failures happened, ms since epoch (Redis's clock). */
  firstFailedAt: number;
  /** How many failed jobs it keeps. */
  failedJobs: number;
}

/** Which failed jobs a call acts on: these ids (at most 1,000), or all of them. */
export type FailedJobIds = readonly string[] | 'all';

/** What `retryFailedJobs` did. */
export interface RetryFailedJobsResult {
  /** The jobs put back at the head of the entity's queue, in the order they run. */
  retried: string[];
  /** Ids asked for that are not failed jobs of the entity (never were, or already retried or removed). */
  notFound: string[];
  /** Failed jobs the entity still keeps. */
  remaining: number;
  /** The entity is paused: the retried jobs run once it is resumed. */
  paused: boolean;
}

/** What `removeFailedJobs` did. */
export interface RemoveFailedJobsResult {
  removed: string[];
  notFound: string[];
  remaining: number;
}

/** What `skipNextJob` did. */
export interface SkipNextJobResult {
  /** The job moved to failed without running; null when no job was waiting. */
  skipped: string | null;
  /** The entity was resumed (asked with `resume: true`). */
  resumed: boolean;
}

/** The reason (and error message) of a job skipped by `skipNextJob`. */
export const SKIPPED_REASON = 'skipped';

/** Jobs moved per script call: a call runs atomically, so a bounded one keeps Redis responsive. */
const PAGE = 1000;
const MAX_JOB_ID_LENGTH = 1024;

/** What the failed-jobs calls need from the pod. */
export interface FailedJobsContext {
  readonly redis: RedisClient;
  readonly catalog: EntityCatalog;
  readonly claims: Claims;
  readonly replies: ReplySender;
  readonly failedIndex: FailedIndex;
  /** Resumes a paused entity and has its jobs run (EntityAdmin.resume). */
  resume(type: string, entityId: unknown): Promise<void>;
}

/**
 * An operator's calls on failed jobs, from any pod: list them (per entity, and the entities of a
 * type that keep some), retry them (at the head of the entity's queue, then the entity is run as
 * after an enqueue), remove them, and skip the next job of a paused entity. Each change is one
 * script on the entity's slot, so it is atomic with the entity's runner.
 */
export class FailedJobs {
  constructor(private readonly ctx: FailedJobsContext) {}

  /** A page of an entity's failed jobs, oldest failure first. */
  async list(type: string, entityId: unknown, opts?: PageOptions): Promise<ListPage<FailedJob>> {
    const { offset, limit } = pageOptions(opts);
    const entity = this.ctx.catalog.handle(type, entityId);
    const { total, jobs } = await failedPage(this.ctx.redis, entity.keys, offset, limit);
    return {
      items: jobs.map((job) => ({
        id: job.id,
        name: job.name,
        data: parseJson(job.data, job.data),
        failedReason: job.failedReason ?? '',
        attemptsMade: job.attemptsMade,
        finishedOn: job.finishedOn,
        error: job.error === null ? null : (parseJson(job.error, null) as SerializedError | null),
      })),
      total,
      nextOffset: offset + limit < total ? offset + limit : null,
    };
  }

  /**
   * A page of the entities of `type` that keep failed jobs, earliest first failure first. An
   * entity whose failed jobs went meanwhile (retention, BullMQ tools) is left out of its page
   * until the index is pruned, but still counts in `total`.
   */
  async entities(type: string, opts?: PageOptions): Promise<ListPage<FailedEntity>> {
    const { offset, limit } = pageOptions(opts);
    const { catalog, failedIndex } = this.ctx;
    if (!catalog.entityType(type)) throw new UnknownEntityTypeError(type, catalog.entityTypes());
    const { total, entries } = await failedIndex.page(type, offset, limit);
    const known = entries.flatMap((entry) => {
      const entity = catalog.fromRef(entry.ref);
      return entity ? [{ entity, firstFailedAt: entry.firstFailedAt }] : [];
    });
    const counts = await this.failedCounts(known.map((k) => k.entity));
    const items: FailedEntity[] = [];
    known.forEach(({ entity, firstFailedAt }, i) => {
      if (counts[i] > 0)
        items.push({
          entityType: entity.type,
          entityId: entity.id,
          firstFailedAt,
          failedJobs: counts[i],
        });
    });
    return { items, total, nextOffset: offset + limit < total ? offset + limit : null };
  }

  /**
   * Puts failed jobs back at the head of the entity's queue, oldest failure first, with their
   * attempts anew; then has the entity run as an enqueue does (unless it is paused).
   */
  async retry(
    type: string,
    entityId: unknown,
    jobIds: FailedJobIds,
  ): Promise<RetryFailedJobsResult> {
    const entity = this.ctx.catalog.handle(type, entityId);
    const ids = selection(jobIds);
    const result: RetryFailedJobsResult = {
      retried: [],
      notFound: [],
      remaining: 0,
      paused: false,
    };
    if (ids !== 'all' && ids.length === 0) return result;
    // All of them: pages of the newest first, each put ahead of the ones before, so that the
    // oldest run first.
    const pages = await this.pages(ids, (which) => retryFailed(this.ctx.redis, entity.keys, which));
    for (const page of pages) {
      result.retried = [...page.retried, ...result.retried];
      result.notFound.push(...page.notFound);
      result.remaining = page.remaining;
      result.paused = page.paused;
    }
    if (result.remaining === 0) await this.ctx.failedIndex.prune(entity);
    if (result.retried.length > 0 && !result.paused)
      await this.ctx.claims.route(entity, 'claim-if-work');
    return result;
  }

  /** Removes failed jobs of an entity (its hash and BullMQ's keys beside it). */
  async remove(
    type: string,
    entityId: unknown,
    jobIds: FailedJobIds,
  ): Promise<RemoveFailedJobsResult> {
    const entity = this.ctx.catalog.handle(type, entityId);
    const ids = selection(jobIds);
    const result: RemoveFailedJobsResult = { removed: [], notFound: [], remaining: 0 };
    if (ids !== 'all' && ids.length === 0) return result;
    const pages = await this.pages(ids, (which) =>
      removeFailed(this.ctx.redis, entity.keys, which),
    );
    for (const page of pages) {
      result.removed.push(...page.removed);
      result.notFound.push(...page.notFound);
      result.remaining = page.remaining;
    }
    if (result.remaining === 0) await this.ctx.failedIndex.prune(entity);
    return result;
  }

  /**
   * Moves the next job of a paused entity to failed without running it (reason `skipped`); a
   * caller awaiting it gets a JobFailedError. The entity stays paused unless `resume` is true.
   * Throws EntityNotPausedError when the entity is not paused (its runner may be taking that
   * very job).
   */
  async skipNext(
    type: string,
    entityId: unknown,
    opts: { resume?: boolean } = {},
  ): Promise<SkipNextJobResult> {
    const entity = this.ctx.catalog.handle(type, entityId);
    const given: unknown = opts;
    if (typeof given !== 'object' || given === null)
      throw new InvalidOptionsError('skipNextJob options', 'an object { resume? }', given);
    if (opts.resume !== undefined && typeof opts.resume !== 'boolean')
      throw new InvalidOptionsError('resume', 'a boolean', opts.resume);
    const error: SerializedError = { name: 'Error', message: SKIPPED_REASON };
    const reply = await skipNext(
      this.ctx.redis,
      entity.keys,
      SKIPPED_REASON,
      JSON.stringify(error),
      entity.keepFailed,
    );
    if (reply.kind === 'not-paused') throw new EntityNotPausedError(entity.type, entity.id);
    let skipped: string | null = null;
    if (reply.kind === 'skipped') {
      skipped = reply.jobId;
      this.ctx.replies.deliver(reply.jobId, 'failed', SKIPPED_REASON, reply.waiters);
      if (reply.kept) await this.ctx.failedIndex.note(entity);
    }
    if (opts.resume) await this.ctx.resume(entity.type, entity.id);
    return { skipped, resumed: opts.resume === true };
  }

  /**
   * Runs a retry or removal script over the selection: the ids in one call, or every failed job
   * page by page, at most as many pages as the entity kept at the first call (jobs that fail
   * again meanwhile are not chased).
   */
  private async pages<R extends { remaining: number }>(
    ids: readonly string[] | 'all',
    call: (which: FailedSelection) => Promise<R>,
  ): Promise<R[]> {
    if (ids !== 'all') return [await call({ ids })];
    let page = await call({ page: PAGE });
    const out = [page];
    for (let left = Math.ceil(page.remaining / PAGE); left > 0 && page.remaining > 0; left--) {
      page = await call({ page: PAGE });
      out.push(page);
    }
    return out;
  }

  /** How many failed jobs each entity keeps (one command each; their keys are in many slots). */
  private async failedCounts(entities: readonly EntityHandle[]): Promise<number[]> {
    const redis = this.ctx.redis;
    if (entities.length === 0) return [];
    if (isCluster(redis)) return Promise.all(entities.map((e) => redis.zcard(e.keys.failed)));
    const pipeline = redis.pipeline();
    for (const e of entities) pipeline.zcard(e.keys.failed);
    return ((await pipeline.exec()) ?? []).map(([err, n]) => {
      if (err) throw err;
      return Number(n);
    });
  }
}

export function pageOptions(opts: PageOptions = {}): { offset: number; limit: number } {
  if (typeof opts !== 'object' || opts === null)
    throw new InvalidOptionsError('page options', 'an object { offset?, limit? }', opts);
  const { offset = 0, limit = 100 } = opts;
  if (!Number.isInteger(offset) || offset < 0)
    throw new InvalidOptionsError('offset', 'an integer ≥ 0', offset);
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE)
    throw new InvalidOptionsError('limit', `an integer from 1 to ${PAGE}`, limit);
  return { offset, limit };
}

export function selection(jobIds: FailedJobIds): readonly string[] | 'all' {
  if (jobIds === 'all') return 'all';
  const given: unknown = jobIds;
  if (!Array.isArray(given) || given.length > PAGE)
    throw new InvalidOptionsError('jobIds', `an array of at most ${PAGE} job ids, or 'all'`, given);
  for (const id of given as unknown[]) {
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_JOB_ID_LENGTH)
      throw new InvalidOptionsError(
        'jobIds',
        `job ids that are non-empty strings of at most ${MAX_JOB_ID_LENGTH} characters`,
        id,
      );
  }
  return jobIds;
}

function parseJson(text: string | null, fallback: unknown): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fallback;
  }
}
