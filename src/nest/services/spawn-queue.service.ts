import { Injectable } from '@nestjs/common';
import { AtomicEngine } from '../../core/engine';
import { EntityHandle } from '../../core/entity';

/** An entity offered to the processing pods, waiting for one to claim it. */
export interface SpawnRequest {
  entityType: string;
  entityId: string;
  /** When it was offered (ms since epoch). */
  requestedAt: number;
}

/**
 * The spawn side of the lifecycle. Workers spawn by themselves: the pod that enqueues to a free
 * entity claims it (or, if it can't, offers it in the shared spawn set, which every processing
 * pod watches). This service shows that set and lets an operator make this pod take an entity.
 */
@Injectable()
export class SpawnQueueService {
  constructor(private readonly engine: AtomicEngine) {}

  /** Entities with work waiting for a pod to claim them, oldest first. */
  async pending(limit = 1000): Promise<SpawnRequest[]> {
    const raw = await this.engine.command.zrange(
      this.engine.keys.spawnKey(),
      0,
      limit - 1,
      'WITHSCORES',
    );
    const out: SpawnRequest[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const parsed = EntityHandle.parseRef(raw[i]);
      if (parsed)
        out.push({ entityType: parsed[0], entityId: parsed[1], requestedAt: Number(raw[i + 1]) });
    }
    return out;
  }

  /**
   * Claims the entity on this pod if it has work and no pod holds it; true when this pod got it.
   * Throws UnknownEntityTypeError / InvalidEntityIdError on bad input.
   */
  spawn(entityType: string, entityId: string | number): Promise<boolean> {
    return this.engine.claimIfWork(this.engine.entity(entityType, entityId));
  }
}
