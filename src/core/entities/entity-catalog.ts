import type { RedisQueueBackend } from 'bullmq';
import {
  EngineStateError,
  InvalidOptionsError,
  NoHandlerError,
  UnknownEntityTypeError,
} from '../../errors';
import type { KeyBuilder } from '../../redis/keys';
import type { EntityTypeOptions } from '../options/atomic-queues-options';
import type { ResolvedEntityType, ResolvedOptions } from '../options/resolved-options';
import { resolveLateEntityType } from '../options/resolve-entity-type';
import { EntityHandle } from './entity';
import { normalizeEntityId } from './entity-id';
import { entityRef, parseEntityRef } from './entity-ref';
import type { EntityJobHandler } from './job-context';

/**
 * Handles kept at most, beyond those of entities this pod holds: the least recently used go,
 * so a pod's memory follows the entities it holds and works on, not all it has seen. A handle
 * that ran costs about 6 KB of heap (its key names and BullMQ queue object); rebuilding one costs
 * a few microseconds. (At 10,000, a pod kept ~80 MB after a flood: `npm run bench -- memory`.)
 */
const MAX_IDLE_HANDLES = 1_000;

/**
 * The entity types this pod knows, their handlers, and the handles of the entities it has
 * addressed (one per entity, cached: building one costs a key map and a BullMQ queue object).
 */
export class EntityCatalog {
  private readonly types = new Map<string, ResolvedEntityType>();
  private readonly handlers = new Map<string, EntityJobHandler>();
  private readonly handles = new Map<string, EntityHandle>();
  private root?: RedisQueueBackend;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly keys: KeyBuilder,
    private readonly podId: string,
    /** Whether this pod holds the entity (its handle must not be evicted). */
    private readonly isHeld: (ref: string) => boolean,
    /** How many entities this pod holds. */
    private readonly heldCount: () => number,
  ) {
    for (const [type, config] of options.entities) this.types.set(type, config);
  }

  /** Entity handles cached now: those of held entities, and at most MAX_IDLE_HANDLES others. */
  get cachedHandles(): number {
    return this.handles.size;
  }

  /** Declares an entity type (or changes its settings before start). */
  registerEntityType(type: string, options: EntityTypeOptions = {}): void {
    const merged = { ...this.optionsOf(type), ...options };
    this.types.set(type, resolveLateEntityType(this.options, type, merged));
  }

  /** Sets the function that runs the jobs of an entity type; declares the type if needed. */
  registerHandler(type: string, handler: EntityJobHandler): void {
    if (typeof handler !== 'function')
      throw new InvalidOptionsError(`handler of ${type}`, 'a function', handler);
    if (!this.types.has(type)) this.registerEntityType(type);
    this.handlers.set(type, handler);
  }

  entityTypes(): string[] {
    return [...this.types.keys()];
  }

  entityType(type: string): ResolvedEntityType | undefined {
    return this.types.get(type);
  }

  handlerFor(type: string): EntityJobHandler {
    const handler = this.handlers.get(type);
    if (!handler) throw new NoHandlerError(type, this.podId);
    return handler;
  }

  /** Gives the catalog the pod's BullMQ backend (at start): handles can be built from then on. */
  attach(root: RedisQueueBackend): void {
    this.root = root;
  }

  /** An entity's type settings and id, checked (UnknownEntityTypeError, InvalidEntityIdError). */
  address(type: string, entityId: unknown): { config: ResolvedEntityType; id: string } {
    const config = this.types.get(type);
    if (!config) throw new UnknownEntityTypeError(String(type), [...this.types.keys()]);
    return { config, id: normalizeEntityId(type, entityId) };
  }

  /** The BullMQ queue name of an entity: its type's `queueName(id)`, made safe, or the default. */
  queueName(config: ResolvedEntityType, id: string): string {
    return config.queueName
      ? this.keys.customQueueName(String(config.queueName(id)))
      : this.keys.defaultQueueName(config.type, id);
  }

  /** The cached handle of an entity; validates type and id. */
  handle(type: string, entityId: unknown): EntityHandle {
    const { config, id } = this.address(type, entityId);
    const ref = entityRef(type, id);
    let handle = this.handles.get(ref);
    if (handle) {
      // Most recently used last: eviction takes from the front.
      this.handles.delete(ref);
      this.handles.set(ref, handle);
    } else {
      if (!this.root) throw new EngineStateError('The engine is not started: call start() first');
      handle = new EntityHandle(
        config,
        id,
        this.queueName(config, id),
        this.keys,
        this.root,
        this.options.heartbeatTtlMs,
      );
      this.handles.set(ref, handle);
      // In batches (past the bound by a tenth): each eviction walks the map once.
      if (this.handles.size > MAX_IDLE_HANDLES * 1.1 + this.heldCount()) this.evict();
    }
    return handle;
  }

  /**
   * Name of an entity's BullMQ queue: the type's `queueName(id)` when this pod declared one,
   * else the default name (also for a type this pod does not know). `id` is normalized.
   */
  queueNameOf(type: string, id: string): string {
    const config = this.types.get(type);
    return config ? this.queueName(config, id) : this.keys.defaultQueueName(type, id);
  }

  /** Handle of an entity named by its ref (spawn/wake/index member), if its type is known here. */
  fromRef(ref: string): EntityHandle | undefined {
    const known = this.handles.get(ref);
    if (known) return known;
    const parsed = parseEntityRef(ref);
    if (!parsed || !this.types.has(parsed[0])) return undefined;
    try {
      return this.handle(parsed[0], parsed[1]);
    } catch {
      return undefined;
    }
  }

  /** Drops least recently used handles of entities not held here, down to the bound. */
  private evict(): void {
    let excess = this.handles.size - MAX_IDLE_HANDLES - this.heldCount();
    for (const ref of this.handles.keys()) {
      if (excess <= 0) return;
      if (this.isHeld(ref)) continue;
      this.handles.delete(ref);
      excess -= 1;
    }
  }

  private optionsOf(type: string): EntityTypeOptions {
    const t = this.types.get(type);
    if (!t) return {};
    return {
      queueName: t.queueName,
      workerName: t.workerName,
      maxWorkersPerEntity: t.maxWorkersPerEntity,
      idleTimeoutSeconds: t.idleTimeoutMs / 1000,
      defaultEntityId: t.defaultEntityId,
      workerConfig: { concurrency: t.concurrency },
      attempts: t.attempts,
      backoff: t.backoff,
      onFailure: t.onFailure,
      maxStalledCount: t.maxStalledCount,
      batchSize: t.batchSize,
      events: t.events,
      removeOnComplete: t.removeOnComplete,
      removeOnFail: t.removeOnFail,
    };
  }
}
