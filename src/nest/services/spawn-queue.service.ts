import { Inject, Injectable } from '@nestjs/common';
import { AtomicEngine, type QueueEngine, type SpawnRequest } from '../../core';

export type { SpawnRequest };

/**
 * The spawn side of the lifecycle. Workers spawn by themselves: the pod that enqueues to a free
 * entity claims it (or, if it can't, offers it in the shared spawn set, which every processing
 * pod watches). This service shows that set and lets an operator make this pod take an entity.
 */
@Injectable()
export class SpawnQueueService {
  constructor(@Inject(AtomicEngine) private readonly engine: QueueEngine) {}

  /** Entities with work waiting for a pod to claim them, oldest first. */
  pending(limit = 1000): Promise<SpawnRequest[]> {
    return this.engine.listSpawnRequests(limit);
  }

  /**
   * Claims the entity on this pod if it has work and no pod holds it; true when this pod got it.
   * Throws UnknownEntityTypeError / InvalidEntityIdError on bad input.
   */
  spawn(entityType: string, entityId: string | number): Promise<boolean> {
    return this.engine.claimEntity(entityType, entityId);
  }
}
