import { EntityNotPausedError, InvalidOptionsError, UnknownEntityTypeError } from '../../errors';
import {
  SKIPPED_REASON,
  pageOptions,
  selection,
  type FailedEntity,
  type FailedJob,
  type FailedJobIds,
  type ListPage,
  type PageOptions,
  type RemoveFailedJobsResult,
  type RetryFailedJobsResult,
  type SkipNextJobResult,
} from '../admin/failed-jobs';
import type { EntityCatalog } from '../entities/entity-catalog';
import type { MemoryEntities } from './memory-entities';

/** What the failed-job calls need from the in-memory engine. */
export interface FailedJobsContext {
  readonly catalog: Pick<EntityCatalog, 'entityType' | 'entityTypes'>;
  /** Each entity by type and id (checked, made on first use), and every one made so far. */
  readonly entities: Pick<MemoryEntities, 'get' | 'values'>;
}

/**
 * The in-memory engine's failed-job admin calls, as the Redis engine's FailedJobs answers them:
 * list an entity's failed jobs, the entities keeping some, retry, remove, skip the next job of a
 * paused entity. Each throws what the Redis engine's call rejects with; the engine makes it a
 * rejection.
 */
export class MemoryFailedJobs {
  constructor(private readonly ctx: FailedJobsContext) {}

  list(type: string, entityId: unknown, opts?: PageOptions): ListPage<FailedJob> {
    const { offset, limit } = pageOptions(opts);
    const failed = this.ctx.entities.get(type, entityId).queue.failedJobs();
    return page(failed, offset, limit, (job) => ({
      id: job.id,
      name: job.name,
      data: JSON.parse(job.json) as unknown,
      failedReason: job.failedReason ?? '',
      attemptsMade: job.attemptsMade,
      finishedOn: job.finishedOn ?? null,
      error: job.error === undefined ? null : (JSON.parse(job.error) as FailedJob['error']),
    }));
  }

  /** The entities keeping failed jobs, earliest kept failure first. */
  entities(type: string, opts?: PageOptions): ListPage<FailedEntity> {
    const { offset, limit } = pageOptions(opts);
    const { catalog } = this.ctx;
    const config = catalog.entityType(type);
    if (!config) throw new UnknownEntityTypeError(type, catalog.entityTypes());
    const entities = [...this.ctx.entities.values()]
      .filter((e) => e.type === config.type)
      .map((e) => ({ e, failed: e.queue.failedJobs() }))
      .filter(({ failed }) => failed.length > 0)
      .map(({ e, failed }) => ({
        entityType: e.type,
        entityId: e.id,
        firstFailedAt: failed[0].finishedOn ?? 0,
        failedJobs: failed.length,
      }))
      .sort((a, b) => a.firstFailedAt - b.firstFailedAt);
    return page(entities, offset, limit, (e) => e);
  }

  retry(type: string, entityId: unknown, jobIds: FailedJobIds): RetryFailedJobsResult {
    const entity = this.ctx.entities.get(type, entityId);
    const { taken, notFound } = entity.queue.takeFailed(selection(jobIds));
    entity.queue.retry(taken);
    entity.pump();
    return {
      retried: taken.map((job) => job.id),
      notFound,
      remaining: entity.queue.failedJobs().length,
      paused: entity.queue.paused,
    };
  }

  remove(type: string, entityId: unknown, jobIds: FailedJobIds): RemoveFailedJobsResult {
    const entity = this.ctx.entities.get(type, entityId);
    const { taken, notFound } = entity.queue.takeFailed(selection(jobIds));
    entity.queue.remove(taken);
    return {
      removed: taken.map((job) => job.id),
      notFound,
      remaining: entity.queue.failedJobs().length,
    };
  }

  skipNext(type: string, entityId: unknown, opts: { resume?: boolean }): SkipNextJobResult {
    const entity = this.ctx.entities.get(type, entityId);
    const given: unknown = opts;
    if (typeof given !== 'object' || given === null)
      throw new InvalidOptionsError('skipNextJob options', 'an object { resume? }', given);
    if (opts.resume !== undefined && typeof opts.resume !== 'boolean')
      throw new InvalidOptionsError('resume', 'a boolean', opts.resume);
    if (!entity.queue.paused) throw new EntityNotPausedError(entity.type, entity.id);
    const skipped = entity.skipNext(SKIPPED_REASON);
    if (opts.resume) entity.queue.paused = false;
    entity.pump();
    return { skipped, resumed: opts.resume === true };
  }
}

/** One page of `items` from `offset`, as the Redis engine's listings page. */
function page<T, R>(
  items: readonly T[],
  offset: number,
  limit: number,
  map: (item: T) => R,
): ListPage<R> {
  const total = items.length;
  return {
    items: items.slice(offset, offset + limit).map(map),
    total,
    nextOffset: offset + limit < total ? offset + limit : null,
  };
}
