import { Inject, Injectable } from '@nestjs/common';
import {
  AtomicEngine,
  type QueueEngine,
  type ActiveEntity,
  type ClusterEntity,
  type EngineStats,
  type EntityBacklog,
  type FailedEntity,
  type FailedJob,
  type FailedJobIds,
  type ListPage,
  type PageOptions,
  type RemoveFailedJobsResult,
  type RetryFailedJobsResult,
  type SkipNextJobResult,
} from '../../core';

export type { ClusterEntity };

/**
 * Runtime view and control of entity workers:
 * - `getActiveEntities()`: the entities this pod runs now (fencing token, state, jobs run);
 * - `getClusterEntities()` / `getWorkersByPod()`: every known entity cluster-wide and its pod;
 * - `getBacklog(type, id)`: job counts of one entity (waiting, active, delayed, failed, ...);
 * - `pauseEntity` / `resumeEntity` / `drainEntity`: control one entity, from any pod;
 * - `listFailedJobs` / `listFailedEntities` / `retryFailedJobs` / `removeFailedJobs` /
 *   `skipNextJob`: failed jobs of one entity, and the entities of a type that keep some;
 * - `getStats()`: this pod's counters.
 */
@Injectable()
export class WorkerManagerService {
  constructor(@Inject(AtomicEngine) private readonly engine: QueueEngine) {}

  /** Id of this pod, as other pods see it. */
  get podId(): string {
    return this.engine.podId;
  }

  getActiveEntities(): ActiveEntity[] {
    return this.engine.activeEntities();
  }

  /** Entities held or waiting for a holder, across the cluster; reads Redis (up to `limit`). */
  getClusterEntities(limit?: number): Promise<ClusterEntity[]> {
    return this.engine.listEntities(limit);
  }

  /** Cluster entities grouped by the pod holding them (`''` for those waiting for a pod). */
  async getWorkersByPod(limit?: number): Promise<Record<string, ClusterEntity[]>> {
    const byPod: Record<string, ClusterEntity[]> = {};
    for (const entity of await this.getClusterEntities(limit)) {
      (byPod[entity.pod ?? ''] ??= []).push(entity);
    }
    return byPod;
  }

  getBacklog(entityType: string, entityId: string | number): Promise<EntityBacklog> {
    return this.engine.getBacklog(entityType, entityId);
  }

  /** Stops running the entity's jobs after the current one; enqueues are still accepted. */
  pauseEntity(entityType: string, entityId: string | number): Promise<void> {
    return this.engine.pauseEntity(entityType, entityId);
  }

  resumeEntity(entityType: string, entityId: string | number): Promise<void> {
    return this.engine.resumeEntity(entityType, entityId);
  }

  /** Removes the entity's waiting jobs (and delayed ones with `delayed: true`). */
  drainEntity(
    entityType: string,
    entityId: string | number,
    opts?: { delayed?: boolean },
  ): Promise<void> {
    return this.engine.drainEntity(entityType, entityId, opts);
  }

  /** A page of an entity's failed jobs, oldest failure first. */
  listFailedJobs(
    entityType: string,
    entityId: string | number,
    opts?: PageOptions,
  ): Promise<ListPage<FailedJob>> {
    return this.engine.listFailedJobs(entityType, entityId, opts);
  }

  /** A page of the entities of a type that keep failed jobs, earliest first failure first. */
  listFailedEntities(entityType: string, opts?: PageOptions): Promise<ListPage<FailedEntity>> {
    return this.engine.listFailedEntities(entityType, opts);
  }

  /** Puts failed jobs back at the head of the entity's queue and has them run (unless paused). */
  retryFailedJobs(
    entityType: string,
    entityId: string | number,
    jobIds: FailedJobIds,
  ): Promise<RetryFailedJobsResult> {
    return this.engine.retryFailedJobs(entityType, entityId, jobIds);
  }

  removeFailedJobs(
    entityType: string,
    entityId: string | number,
    jobIds: FailedJobIds,
  ): Promise<RemoveFailedJobsResult> {
    return this.engine.removeFailedJobs(entityType, entityId, jobIds);
  }

  /** Fails the next job of a paused entity without running it; stays paused unless `resume`. */
  skipNextJob(
    entityType: string,
    entityId: string | number,
    opts?: { resume?: boolean },
  ): Promise<SkipNextJobResult> {
    return this.engine.skipNextJob(entityType, entityId, opts);
  }

  getStats(): EngineStats {
    return this.engine.getStats();
  }
}
