import type { ClusterEntity } from '../admin/entity-admin';
import type { Clock } from '../clock';
import type { EntityCatalog } from '../entities/entity-catalog';
import { entityRef } from '../entities/entity-ref';
import type { ActiveEntity } from '../engine-types';
import type { EventSink } from '../events';
import type { ReplyWaiters } from '../replies/reply-waiters';
import { RunnerRegistry, type RunnerStats } from '../running/runner-registry';
import { Activity } from './activity';
import { MemoryEntity, type MemoryHost } from './memory-entity';
import type { JobRun } from './memory-job';

/** What the in-memory engine's entities need from the engine. */
export interface EntitiesContext {
  readonly podId: string;
  readonly keyPrefix: string;
  readonly clock: Clock;
  readonly events: EventSink;
  readonly waiters: ReplyWaiters;
  readonly catalog: Pick<EntityCatalog, 'address' | 'queueName' | 'handlerFor'>;
  /** Jobs may start: the engine is started and processing. */
  canRun(): boolean;
  /** The engine is stopping: a job due for a retry waits instead. */
  stopping(): boolean;
  report(error: unknown, context: string): void;
}

/**
 * The in-memory engine's entities, each made on first use, with what they share: the work in
 * flight (for `waitIdle`), the record of handler calls (`runs`) and the counts of `getStats`.
 */
export class MemoryEntities {
  readonly stats: RunnerStats = RunnerRegistry.statsOf(undefined);
  private readonly entities = new Map<string, MemoryEntity>();
  private readonly calls: JobRun[] = [];
  private readonly activity = new Activity();
  private readonly host: MemoryHost;

  constructor(private readonly ctx: EntitiesContext) {
    this.host = {
      podId: ctx.podId,
      keyPrefix: ctx.keyPrefix,
      clock: ctx.clock,
      events: ctx.events,
      waiters: ctx.waiters,
      stats: this.stats,
      activity: this.activity,
      handlerFor: (type) => ctx.catalog.handlerFor(type),
      canRun: () => ctx.canRun(),
      stopping: () => ctx.stopping(),
      recordRun: (run) => this.calls.push(run),
      report: (error, context) => ctx.report(error, context),
    };
  }

  /** The entity of a type and id (checked), made on first use. */
  get(type: string, entityId: unknown): MemoryEntity {
    const { catalog } = this.ctx;
    const { config, id } = catalog.address(type, entityId);
    const ref = entityRef(config.type, id);
    let entity = this.entities.get(ref);
    if (!entity) {
      entity = new MemoryEntity(config, id, catalog.queueName(config, id), this.host);
      this.entities.set(ref, entity);
    }
    return entity;
  }

  values(): IterableIterator<MemoryEntity> {
    return this.entities.values();
  }

  /** The entities held or with jobs, as `listEntities` lists them. */
  list(limit: number): ClusterEntity[] {
    const known = [...this.entities.values()].filter((e) => e.isHeld || e.queue.holdsJobs());
    return known.slice(0, limit).map((e) => ({
      entityType: e.type,
      entityId: e.id,
      pod: e.isHeld ? this.ctx.podId : null,
    }));
  }

  active(): ActiveEntity[] {
    return [...this.entities.values()]
      .map((e) => e.active())
      .filter((a): a is ActiveEntity => a !== undefined);
  }

  /** Whether jobs are left that will run (waiting, delayed, active; not of a paused entity). */
  hasWork(): boolean {
    for (const entity of this.entities.values()) if (entity.queue.hasWork()) return true;
    return false;
  }

  /** The handler calls of one entity (or of every entity), in the order they started. */
  runs(type?: string, entityId?: unknown): JobRun[] {
    if (type === undefined) return [...this.calls];
    const { config, id } = this.ctx.catalog.address(type, entityId);
    return this.calls.filter((r) => r.entityType === config.type && r.entityId === id);
  }

  /** Resolves once no handler runs and no job can start now (see `InMemoryEngine.waitIdle`). */
  whenIdle(): Promise<void> {
    return this.activity.whenIdle();
  }

  /** The engine stops: running handler calls finish, then every entity is let go. */
  async stop(): Promise<void> {
    for (const entity of this.entities.values()) entity.interrupt();
    await this.activity.whenIdle();
    for (const entity of this.entities.values()) entity.close();
  }
}
