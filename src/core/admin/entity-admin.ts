import { isCluster, type RedisClient } from '../../redis/connections';
import type { KeyBuilder } from '../../redis/keys';
import type { EntityCatalog } from '../entities/entity-catalog';
import type { EntityHandle } from '../entities/entity';
import { parseEntityRef } from '../entities/entity-ref';
import type { Claims } from '../placement/claims';
import type { RunnerRegistry } from '../running/runner-registry';

/** Job counts of one entity's queue. */
export interface EntityBacklog {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
  paused: boolean;
}

/** An entity the cluster knows of and the pod holding it (`null`: waiting for a pod). */
export interface ClusterEntity {
  entityType: string;
  entityId: string;
  pod: string | null;
}

/** An entity offered to the processing pods, waiting for one to claim it. */
export interface SpawnRequest {
  entityType: string;
  entityId: string;
  /** When it was offered (ms since epoch). */
  requestedAt: number;
}

/** What the admin calls need from the pod. */
export interface AdminContext {
  readonly redis: RedisClient;
  readonly keys: KeyBuilder;
  readonly catalog: EntityCatalog;
  readonly runners: RunnerRegistry;
  readonly claims: Claims;
}

/** Per-entity inspection and control, from any pod: backlog, pause, resume, drain, listings. */
export class EntityAdmin {
  constructor(private readonly ctx: AdminContext) {}

  /** Job counts of one entity's queue. */
  async backlog(type: string, entityId: unknown): Promise<EntityBacklog> {
    const queue = this.ctx.catalog.handle(type, entityId).queue;
    const states = ['wait', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;
    const [counts, paused] = await Promise.all([
      queue.backend.getCounts([...states]),
      queue.backend.hasQueueMetaField('paused'),
    ]);
    const [waiting, active, delayed, prioritized, failed, completed] = counts.map(Number);
    return {
      waiting: (waiting ?? 0) + (prioritized ?? 0),
      active: active ?? 0,
      delayed: delayed ?? 0,
      failed: failed ?? 0,
      completed: completed ?? 0,
      paused,
    };
  }

  /**
   * Entities the cluster knows of (held, or with work waiting for a holder), with the pod holding
   * each (`null` when none does right now). Reads the sweep index: cost grows with its size.
   */
  async list(limit = 10_000): Promise<ClusterEntity[]> {
    const { redis, keys, catalog } = this.ctx;
    const refs = await redis.zrange(keys.indexKey(), 0, limit - 1);
    const known = refs
      .map((ref) => catalog.fromRef(ref))
      .filter((e): e is EntityHandle => e !== undefined);
    let owners: (string | null)[];
    if (isCluster(redis)) {
      // The leases sit in as many slots as there are entities: a Cluster pipeline can't mix
      // slots, so one command each, all in flight at once.
      owners = await Promise.all(known.map((e) => redis.hget(e.keys.lease, 'p')));
    } else {
      const pipeline = redis.pipeline();
      for (const e of known) pipeline.hget(e.keys.lease, 'p');
      owners = ((await pipeline.exec()) ?? []).map(([, pod]) => (pod as string | null) ?? null);
    }
    return known.map((e, i) => ({ entityType: e.type, entityId: e.id, pod: owners[i] ?? null }));
  }

  /** Entities with work waiting for a pod to claim them, oldest first. */
  async spawnRequests(limit = 1000): Promise<SpawnRequest[]> {
    const raw = await this.ctx.redis.zrange(this.ctx.keys.spawnKey(), 0, limit - 1, 'WITHSCORES');
    const out: SpawnRequest[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const parsed = parseEntityRef(raw[i]);
      if (parsed)
        out.push({ entityType: parsed[0], entityId: parsed[1], requestedAt: Number(raw[i + 1]) });
    }
    return out;
  }

  /** Claims the entity on this pod if it has work and no pod holds it; true when it got it. */
  claimIfWork(type: string, entityId: unknown): Promise<boolean> {
    return this.ctx.claims.claimIfWork(this.ctx.catalog.handle(type, entityId));
  }

  /** Stops running an entity's jobs after the current one; new jobs are still accepted. */
  async pause(type: string, entityId: unknown): Promise<void> {
    const entity = this.ctx.catalog.handle(type, entityId);
    await entity.queue.pause(true);
    this.ctx.runners.get(entity.ref)?.notify();
  }

  /** Resumes a paused entity; its waiting jobs are picked up at once. */
  async resume(type: string, entityId: unknown): Promise<void> {
    const entity = this.ctx.catalog.handle(type, entityId);
    await entity.queue.pause(false);
    await this.ctx.claims.route(entity, 'claim-if-work');
  }

  /** Removes an entity's waiting (and, with `delayed`, delayed) jobs. Running jobs finish. */
  async drain(type: string, entityId: unknown, opts: { delayed?: boolean } = {}): Promise<void> {
    await this.ctx.catalog.handle(type, entityId).queue.backend.drain(opts.delayed ?? false);
  }
}
