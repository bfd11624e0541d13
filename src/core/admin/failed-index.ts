import type { RedisClient } from '../../redis/connections';
import type { KeyBuilder } from '../../redis/keys';
import { touchIndex } from '../../redis/scripts/touch-index';
import { unindex } from '../../redis/scripts/unindex';
import type { EntityHandle } from '../entities/entity';

/** One entry of the index: an entity's ref and when its first kept failure happened (ms). */
export interface FailedIndexEntry {
  ref: string;
  firstFailedAt: number;
}

/**
 * The entities of each type that keep failed jobs: one sorted set per type in the pods' shared
 * slot (`P:{__aq}:failed:<type>`), scored with the time of the first failure by Redis's clock.
 * An entity's own keys sit in another Cluster slot, so no script of the entity can write it:
 *
 * - a pod notes the entity after a job of it went to failed (after the finishing script); the
 *   cron manager notes an entity whose holder it finds gone if it keeps failed jobs (the holder
 *   may have died in between);
 * - an entity that keeps none is pruned: by the operator's calls that retry or remove failed
 *   jobs, and by the cron manager when it tends the entity at rest (after retention, or BullMQ
 *   tools, removed them).
 *
 * A prune removes the entry first and then counts the entity's failed jobs, putting the entry
 * back if there are any: a failure noted after its finish can't fall between the two.
 */
export class FailedIndex {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyBuilder,
  ) {}

  /** A job of `entity` went to failed: index the entity (an earlier first failure is kept). */
  async note(entity: EntityHandle): Promise<void> {
    await touchIndex(this.redis, this.keys.failedKey(entity.type), 'NX', [[0, entity.ref]]);
  }

  /**
   * Notes `entity` if it keeps failed jobs: for one whose holder is gone, and may have died
   * between a failure and its note. A failure after the count is a live holder's, which notes it.
   */
  async noteIfKept(entity: EntityHandle): Promise<void> {
    if ((await this.redis.zcard(entity.keys.failed)) > 0) await this.note(entity);
  }

  /** Drops `entity` from the index if it keeps no failed job. */
  async prune(entity: EntityHandle): Promise<void> {
    const key = this.keys.failedKey(entity.type);
    const score = await this.redis.zscore(key, entity.ref);
    if (score === null || !(await unindex(this.redis, key, entity.ref, score))) return;
    if ((await this.redis.zcard(entity.keys.failed)) > 0)
      await this.redis.zadd(key, 'NX', score, entity.ref);
  }

  /** A page of a type's indexed entities, earliest first failure first, and how many there are. */
  async page(
    type: string,
    offset: number,
    limit: number,
  ): Promise<{ total: number; entries: FailedIndexEntry[] }> {
    const key = this.keys.failedKey(type);
    const [total, raw] = await Promise.all([
      this.redis.zcard(key),
      this.redis.zrange(key, offset, offset + limit - 1, 'WITHSCORES'),
    ]);
    const entries: FailedIndexEntry[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2)
      entries.push({ ref: raw[i], firstFailedAt: Number(raw[i + 1]) });
    return { total, entries };
  }
}
