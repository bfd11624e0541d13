import { Inject, Injectable } from '@nestjs/common';
import {
  AtomicEngine,
  type QueueEngine,
  type ActiveEntity,
  type ClusterEntity,
  type EngineStats,
  type EntityBacklog,
} from '../../core';

export type { ClusterEntity };

/**
 * Runtime view and control of entity workers:
 * - `getActiveEntities()`: the entities this pod runs now (fencing token, state, jobs run);
 * - `getClusterEntities()` / `getWorkersByPod()`: every known entity cluster-wide and its pod;
 * - `getBacklog(type, id)`: job counts of one entity (waiting, active, delayed, failed, ...);
 * - `pauseEntity` / `resumeEntity` / `drainEntity`: control one entity, from any pod;
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

  getStats(): EngineStats {
    return this.engine.getStats();
  }
}
