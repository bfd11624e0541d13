import { InvalidOptionsError } from '../../errors';
import { isCluster, type RedisClient } from '../../redis/connections';
import type { KeyBuilder } from '../../redis/keys';
import {
  decodeEntityState,
  entityState,
  sendEntityState,
  type StoredEntityState,
} from '../../redis/scripts/entity-state';
import type { EntityCatalog } from '../entities/entity-catalog';
import { normalizeEntityId } from '../entities/entity-id';
import { entityRef, parseEntityRef } from '../entities/entity-ref';
import { NAME } from '../options/resolve-entity-type';

/**
 * Where an entity stands: `held` by a pod (running or idle), `waiting` for a pod to claim its
 * jobs, `paused` (held or not), or `idle` (no holder, no work: it keeps finished jobs).
 */
export type EntityState = 'held' | 'waiting' | 'paused' | 'idle';

/** One entity as `scanEntities` lists it. */
export interface EntitySummary {
  entityType: string;
  entityId: string;
  /** Its BullMQ queue (for BullMQ tools and bull-board). */
  queueName: string;
  state: EntityState;
  /** The pod holding it, or null. */
  pod: string | null;
  paused: boolean;
  /** Jobs not finished: waiting (prioritized included) + active + delayed. */
  backlog: number;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  /** How long the next waiting job has waited since its enqueue, ms (Redis's clock); null if none. */
  oldestWaitingMs: number | null;
}

/** One entity as `inspectEntity` reads it. */
export interface EntityDetails extends EntitySummary {
  /** The lease (slot 0): holder, time left, and whether the holder marked the entity idle. */
  lease: { pod: string; ttlMs: number; idle: boolean } | null;
  /** The last fencing token handed out; null when none is kept (an entity at rest). */
  fencingToken: number | null;
  completed: number;
}

/** Where a page of `scanEntities` starts, how many it asks for, and which type. */
export interface EntityScanOptions {
  /** The `cursor` of the previous page; omitted (or `'0'`) for the first page. */
  cursor?: string;
  /** Entities to gather for this page, 1 to 1,000 (a page may hold a few more). @defaultValue 100 */
  limit?: number;
  /** Only entities of this type. */
  type?: string;
}

/** A page of `scanEntities`: sorted by backlog (largest first); `cursor` null after the last. */
export interface EntityPage {
  items: EntitySummary[];
  cursor: string | null;
}

/** A pod in the registry, as its last heartbeat left it. */
export interface PodInfo {
  podId: string;
  /** Entities it held at its last beat. */
  held: number;
  /** It takes work (false: a producer-only engine, such as the CLI's). */
  processing: boolean;
  /** Since its last beat, ms (Redis's clock). */
  lastBeatMsAgo: number;
}

/** What the listings need from the pod. */
export interface EntityScanContext {
  readonly redis: RedisClient;
  readonly keys: KeyBuilder;
  readonly catalog: EntityCatalog;
}

const MAX_LIMIT = 1000;
const CURSOR = /^([ir]):(\d+)$/;

/**
 * Cluster-wide listings for operators, read with cursors so that none blocks Redis whatever the
 * number of entities: the entities (the sweep index, then the rest set, with ZSCAN), one
 * entity's state, the pod registry, and the types that keep failed jobs (SCAN). Entities of
 * types this pod does not declare are read under the default queue names.
 */
export class EntityScan {
  constructor(private readonly ctx: EntityScanContext) {}

  /**
   * A page of entities: those in the sweep index (held, or with work waiting for a holder), then
   * those in the rest set not in the index (paused, or keeping finished jobs). An entity present
   * throughout the iteration is listed; ZSCAN may list one twice if its set shrinks meanwhile.
   */
  async page(opts: EntityScanOptions = {}): Promise<EntityPage> {
    const { limit, type } = scanOptions(opts);
    let [phase, zcursor] = parseCursor(opts.cursor);
    const { redis, keys } = this.ctx;
    const found = new Map<string, [string, string]>();
    let done = false;
    while (found.size < limit && !done) {
      const key = phase === 'i' ? keys.indexKey() : keys.restKey();
      const [next, flat] = await redis.zscan(key, zcursor, 'COUNT', limit);
      let refs = flat.filter((_, i) => i % 2 === 0).filter((ref) => !found.has(ref));
      if (phase === 'r' && refs.length > 0) {
        const inIndex = await redis.zmscore(keys.indexKey(), ...refs);
        refs = refs.filter((_, i) => inIndex[i] === null);
      }
      for (const ref of refs) {
        const parsed = parseEntityRef(ref);
        if (parsed && (type === undefined || parsed[0] === type)) found.set(ref, parsed);
      }
      if (next !== '0') zcursor = next;
      else if (phase === 'i' && (await redis.zcard(keys.restKey())) > 0)
        [phase, zcursor] = ['r', '0'];
      else done = true;
    }
    const entities = [...found.values()];
    const located = entities.map(([t, id]) => ({ t, id, ...this.keysOf(t, id) }));
    const states = await this.states(located.map((e) => e.keys));
    const items = located.map((e, i) => summarize(e.t, e.id, e.queueName, states[i]));
    items.sort(
      (a, b) =>
        b.backlog - a.backlog ||
        (b.oldestWaitingMs ?? -1) - (a.oldestWaitingMs ?? -1) ||
        entityRef(a.entityType, a.entityId).localeCompare(entityRef(b.entityType, b.entityId)),
    );
    return { items, cursor: done ? null : `${phase}:${zcursor}` };
  }

  /** One entity's lease, fencing token, backlog and pause (zeros for an entity never seen). */
  async inspect(type: string, entityId: unknown): Promise<EntityDetails> {
    checkType(type);
    const id = normalizeEntityId(type, entityId);
    const { queueName, keys } = this.keysOf(type, id);
    const s = await entityState(this.ctx.redis, keys);
    return {
      ...summarize(type, id, queueName, s),
      lease: s.pod === null ? null : { pod: s.pod, ttlMs: s.leaseTtlMs, idle: s.idle },
      fencingToken: s.fencingToken,
      completed: s.completed,
    };
  }

  /** The pod registry: every pod whose entry is kept (stale ones until the beats drop them). */
  async pods(): Promise<PodInfo[]> {
    const { redis, keys } = this.ctx;
    const [entries, [sec, usec]] = await Promise.all([redis.hgetall(keys.podsKey()), redis.time()]);
    const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    return Object.entries(entries)
      .map(([podId, value]) => {
        const [held, processing, at] = value.split('|');
        return {
          podId,
          held: Number(held),
          processing: processing === '1',
          lastBeatMsAgo: Math.max(0, now - Number(at)),
        };
      })
      .sort((a, b) => a.podId.localeCompare(b.podId));
  }

  /** The entity types that have an index of entities with failed jobs (SCAN, never KEYS). */
  async failedTypes(): Promise<string[]> {
    const { redis, keys } = this.ctx;
    const nodes = isCluster(redis) ? redis.nodes('master') : [redis];
    const types = new Set<string>();
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(
          cursor,
          'MATCH',
          keys.failedKeyPattern(),
          'COUNT',
          1000,
        );
        cursor = next;
        for (const key of found) {
          const type = keys.failedKeyType(key);
          if (type !== undefined) types.add(type);
        }
      } while (cursor !== '0');
    }
    return [...types].sort();
  }

  private keysOf(type: string, id: string) {
    const queueName = this.ctx.catalog.queueNameOf(type, id);
    return { queueName, keys: this.ctx.keys.entityKeys(queueName) };
  }

  /** Each entity's state: one pipeline on a single Redis, one call each (all in flight) on a Cluster. */
  private async states(
    all: readonly ReturnType<KeyBuilder['entityKeys']>[],
  ): Promise<StoredEntityState[]> {
    const redis = this.ctx.redis;
    if (all.length === 0) return [];
    if (isCluster(redis)) return Promise.all(all.map((k) => entityState(redis, k)));
    const pipeline = redis.pipeline();
    for (const k of all) void sendEntityState(pipeline, k);
    return ((await pipeline.exec()) ?? []).map(([err, raw]) => {
      if (err) throw err;
      return decodeEntityState(raw);
    });
  }
}

function summarize(
  type: string,
  id: string,
  queueName: string,
  s: StoredEntityState,
): EntitySummary {
  const waiting = s.waiting + s.prioritized;
  const backlog = waiting + s.active + s.delayed;
  const state: EntityState = s.paused
    ? 'paused'
    : s.pod !== null
      ? 'held'
      : backlog > 0
        ? 'waiting'
        : 'idle';
  return {
    entityType: type,
    entityId: id,
    queueName,
    state,
    pod: s.pod,
    paused: s.paused,
    backlog,
    waiting,
    active: s.active,
    delayed: s.delayed,
    failed: s.failed,
    oldestWaitingMs: s.nextEnqueuedAt === null ? null : Math.max(0, s.now - s.nextEnqueuedAt),
  };
}

function checkType(type: unknown): asserts type is string {
  if (typeof type !== 'string' || !NAME.test(type))
    throw new InvalidOptionsError('type', 'a type name of letters, digits, `_` or `.`', type);
}

function scanOptions(opts: EntityScanOptions): { limit: number; type?: string } {
  if (typeof opts !== 'object' || opts === null)
    throw new InvalidOptionsError('scan options', 'an object { cursor?, limit?, type? }', opts);
  const { limit = 100, type } = opts;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new InvalidOptionsError('limit', `an integer from 1 to ${MAX_LIMIT}`, limit);
  if (type !== undefined) checkType(type);
  return { limit, type };
}

function parseCursor(cursor: unknown): ['i' | 'r', string] {
  if (cursor === undefined || cursor === '0') return ['i', '0'];
  const match = typeof cursor === 'string' ? CURSOR.exec(cursor) : null;
  if (!match)
    throw new InvalidOptionsError('cursor', 'a cursor returned by a previous page, or "0"', cursor);
  return [match[1] as 'i' | 'r', match[2]];
}
