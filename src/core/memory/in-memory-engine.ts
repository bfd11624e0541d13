import { EventEmitter } from 'node:events';
import { EngineStateError } from '../../errors';
import type { Connections } from '../../redis/connections';
import { KeyBuilder } from '../../redis/keys';
import type { ClusterEntity, EntityBacklog, SpawnRequest } from '../admin/entity-admin';
import type {
  FailedEntity,
  FailedJob,
  FailedJobIds,
  ListPage,
  PageOptions,
  RemoveFailedJobsResult,
  RetryFailedJobsResult,
  SkipNextJobResult,
} from '../admin/failed-jobs';
import type { Clock } from '../clock';
import { EntityCatalog } from '../entities/entity-catalog';
import type { EntityJobHandler } from '../entities/job-context';
import type { AtomicQueuesEvents } from '../events';
import { logEngineEvents } from '../logger';
import { checkHealth, type EngineHealth, type HealthOptions } from '../observability/health';
import type { EntityTypeOptions } from '../options/atomic-queues-options';
import type { ResolvedEntityType, ResolvedOptions } from '../options/resolved-options';
import type {
  BulkJob,
  EnqueueAndWaitOptions,
  EnqueueOptions,
  WaitForJobOptions,
} from '../producing/job-request';
import type { ActiveEntity, EngineState, EngineStats } from '../engine-types';
import type { QueueEngine } from '../queue-engine';
import { ReplyWaiters } from '../replies/reply-waiters';
import { resolveMemoryOptions, type InMemoryEngineOptions } from './in-memory-options';
import { MemoryEntities } from './memory-entities';
import type { MemoryEntity } from './memory-entity';
import { MemoryFailedJobs } from './memory-failed-jobs';
import type { JobRun } from './memory-job';
import { MemoryProducer } from './memory-producer';
import { advanceTime, drainJobs } from './test-time';

/** ReplyWaiters subscribes to Redis only in `ready()`, which this engine never calls. */
const NO_CONNECTIONS = {} as Connections;

/**
 * An engine with the behaviour of AtomicEngine, in memory, for tests: per-entity order, one job
 * of an entity at a time (`concurrency` as configured), retries in place, `onFailure`, fencing
 * tokens, delays, idempotent job ids, `enqueueAndWait` results and errors, the same checks of
 * every input, the same events. It has no Redis, and models one process: README "Testing" says
 * what it leaves out. Helpers for tests: {@link waitIdle}, {@link drain}, {@link advanceTime},
 * {@link runs}, {@link simulateLeaseLoss}.
 */
export class InMemoryEngine extends EventEmitter<AtomicQueuesEvents> implements QueueEngine {
  readonly podId: string;
  readonly clock: Clock;
  readonly #options: ResolvedOptions;
  readonly #catalog: EntityCatalog;
  readonly #waiters: ReplyWaiters;
  readonly #entities: MemoryEntities;
  readonly #producer: MemoryProducer;
  readonly #failedJobs: MemoryFailedJobs;
  #state: EngineState = 'new';
  #stopping?: Promise<void>;

  constructor(options: InMemoryEngineOptions = {}) {
    super();
    const { options: resolved, clock } = resolveMemoryOptions(options);
    this.#options = resolved;
    this.clock = clock;
    this.podId = this.#options.podId ?? 'in-memory';
    this.#catalog = new EntityCatalog(
      this.#options,
      new KeyBuilder(this.#options.keyPrefix),
      this.podId,
      () => false,
      () => 0,
    );
    const report = (error: unknown, context: string): void => {
      this.emit('error', error instanceof Error ? error : new Error(String(error)), context);
    };
    this.#waiters = new ReplyWaiters(NO_CONNECTIONS, '', report, clock);
    this.#entities = new MemoryEntities({
      podId: this.podId,
      keyPrefix: this.#options.keyPrefix,
      clock,
      events: this,
      waiters: this.#waiters,
      catalog: this.#catalog,
      canRun: () => this.#canRun(),
      stopping: () => this.#state === 'stopping',
      report,
    });
    this.#producer = new MemoryProducer({
      clock,
      waiters: this.#waiters,
      maxPayloadBytes: this.#options.maxPayloadBytes,
      producing: () => this.#producing(),
      entities: this.#entities,
    });
    this.#failedJobs = new MemoryFailedJobs({ catalog: this.#catalog, entities: this.#entities });
    logEngineEvents(this, this.#options.logger);
  }

  registerEntityType(type: string, options: EntityTypeOptions = {}): void {
    this.#catalog.registerEntityType(type, options);
  }

  registerHandler(type: string, handler: EntityJobHandler): void {
    this.#catalog.registerHandler(type, handler);
  }

  entityTypes(): string[] {
    return this.#catalog.entityTypes();
  }

  entityType(type: string): ResolvedEntityType | undefined {
    return this.#catalog.entityType(type);
  }

  // ── lifecycle ──────────────────────────────────────────────────────────────

  start(): Promise<void> {
    if (this.#state !== 'new')
      return Promise.reject(
        new EngineStateError(`start() was already called (state: ${this.#state})`),
      );
    this.#state = 'started';
    return Promise.resolve();
  }

  /**
   * Graceful stop: running handler calls finish (a job due for a retry waits in its queue
   * instead), entities are let go (`entity:released`, reason `stopped`), callers still awaiting
   * a result are rejected with EngineStateError. Inspection (backlog, runs) works afterwards.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#close();
    return this.#stopping;
  }

  async #close(): Promise<void> {
    const wasStarted = this.#state === 'started';
    this.#state = 'stopping';
    if (wasStarted) await this.#entities.stop();
    this.#waiters.close();
    this.#state = 'stopped';
  }

  isStarted(): boolean {
    return this.#state === 'started';
  }

  // ── enqueue ────────────────────────────────────────────────────────────────

  enqueue(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts: EnqueueOptions = {},
  ): Promise<string> {
    return this.#call(() => this.#producer.enqueue(type, entityId, name, data, opts));
  }

  enqueueAndWait(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts: EnqueueAndWaitOptions = {},
  ): Promise<unknown> {
    return this.#call(() => this.#producer.enqueueAndWait(type, entityId, name, data, opts));
  }

  waitForJob(
    type: string,
    entityId: unknown,
    jobId: string,
    opts: WaitForJobOptions = {},
  ): Promise<unknown> {
    return this.#call(() => this.#producer.waitForJob(type, entityId, jobId, opts));
  }

  enqueueBulk(items: ReadonlyArray<BulkJob>): Promise<string[]> {
    return this.#call(() => this.#producer.enqueueBulk(items));
  }

  // ── admin ──────────────────────────────────────────────────────────────────

  queueName(type: string, entityId: unknown): string {
    this.#started();
    return this.#entities.get(type, entityId).queueName;
  }

  getBacklog(type: string, entityId: unknown): Promise<EntityBacklog> {
    return this.#call(() => this.#entities.get(type, entityId).queue.backlog());
  }

  listEntities(limit = 10_000): Promise<ClusterEntity[]> {
    this.#started();
    return Promise.resolve(this.#entities.list(limit));
  }

  /** Always empty: this engine holds every entity with work at once. */
  listSpawnRequests(_limit?: number): Promise<SpawnRequest[]> {
    this.#started();
    return Promise.resolve([]);
  }

  claimEntity(type: string, entityId: unknown): Promise<boolean> {
    this.#started();
    const entity = this.#entities.get(type, entityId);
    if (entity.isHeld || !entity.queue.hasWork() || !this.#canRun()) return Promise.resolve(false);
    entity.pump();
    return Promise.resolve(entity.isHeld);
  }

  pauseEntity(type: string, entityId: unknown): Promise<void> {
    return this.#admin(type, entityId, (entity) => (entity.queue.paused = true));
  }

  resumeEntity(type: string, entityId: unknown): Promise<void> {
    return this.#admin(type, entityId, (entity) => (entity.queue.paused = false));
  }

  drainEntity(type: string, entityId: unknown, opts: { delayed?: boolean } = {}): Promise<void> {
    return this.#admin(type, entityId, (entity) => entity.queue.drain(opts.delayed ?? false));
  }

  // ── failed jobs ────────────────────────────────────────────────────────────

  listFailedJobs(
    type: string,
    entityId: unknown,
    opts?: PageOptions,
  ): Promise<ListPage<FailedJob>> {
    return this.#call(() => this.#failedJobs.list(type, entityId, opts));
  }

  /** The entities keeping failed jobs, earliest kept failure first. */
  listFailedEntities(type: string, opts?: PageOptions): Promise<ListPage<FailedEntity>> {
    return this.#call(() => this.#failedJobs.entities(type, opts));
  }

  retryFailedJobs(
    type: string,
    entityId: unknown,
    jobIds: FailedJobIds,
  ): Promise<RetryFailedJobsResult> {
    return this.#call(() => this.#failedJobs.retry(type, entityId, jobIds));
  }

  removeFailedJobs(
    type: string,
    entityId: unknown,
    jobIds: FailedJobIds,
  ): Promise<RemoveFailedJobsResult> {
    return this.#call(() => this.#failedJobs.remove(type, entityId, jobIds));
  }

  skipNextJob(
    type: string,
    entityId: unknown,
    opts: { resume?: boolean } = {},
  ): Promise<SkipNextJobResult> {
    return this.#call(() => this.#failedJobs.skipNext(type, entityId, opts));
  }

  // ── introspection ──────────────────────────────────────────────────────────

  activeEntities(): ActiveEntity[] {
    return this.#entities.active();
  }

  /**
   * Healthy while started: there is no Redis to PING and no lease to renew (the Terminus
   * indicator works in a test module; it tells nothing about a deployment).
   */
  health(options?: HealthOptions): Promise<EngineHealth> {
    const clock = this.clock;
    return checkHealth(
      {
        podId: this.podId,
        clock,
        leaseTtlMs: this.#options.heartbeatTtlMs,
        state: () => this.#state,
        pod: () =>
          this.#state === 'started'
            ? {
                ping: () => Promise.resolve(0),
                loopTimes: () => ({ heartbeatTickAt: clock.now(), leasesRenewedAt: clock.now() }),
                held: () => this.activeEntities().length,
              }
            : undefined,
      },
      options,
    );
  }

  getStats(): EngineStats {
    return {
      podId: this.podId,
      activeEntities: this.activeEntities().length,
      ...this.#entities.stats,
    };
  }

  // ── helpers for tests ──────────────────────────────────────────────────────

  /**
   * Resolves once no handler runs and no job can start now. Jobs may be left: delayed ones,
   * ones waiting out a retry's backoff (both come back on the engine's clock), and those of a
   * paused entity. Waits for handlers that are still running, the calls of a lost lease too.
   */
  waitIdle(): Promise<void> {
    return this.#entities.whenIdle();
  }

  /**
   * Resolves once every job has finished (completed or failed), delayed ones and retries
   * included: with a ManualClock, time is moved to each one's due time; with the system clock,
   * their time is waited for. Jobs of a paused entity stay. (Unlike `drainEntity`, which removes
   * waiting jobs, this runs them: "drained" as BullMQ's event says.)
   */
  drain(): Promise<void> {
    const pending = (): boolean =>
      this.isStarted() && this.#options.processing && this.#entities.hasWork();
    return drainJobs(this.clock, () => this.waitIdle(), pending);
  }

  /**
   * Moves a ManualClock forward by `ms`, timer by timer: what falls due runs (delayed jobs,
   * retries, idle releases, `enqueueAndWait` timeouts) and the work it starts settles
   * ({@link waitIdle}) before the next timer. To move time while a handler waits for something
   * only the test provides, call the clock's own `advance(ms)`, which does not wait.
   */
  advanceTime(ms: number): Promise<void> {
    return advanceTime(this.clock, ms, () => this.waitIdle());
  }

  /**
   * The handler calls of one entity (or of every entity), in the order they started: job,
   * payload, attempt, fencing token, and how each ended.
   */
  runs(type?: string, entityId?: unknown): JobRun[] {
    return this.#entities.runs(type, entityId);
  }

  /**
   * Simulates the loss of an entity's lease, as when another pod takes it over: the running
   * job's handler call goes on but its outcome is dropped, `lease:lost` is emitted, and the job
   * runs again first, under a new holder with a larger fencing token. False when the entity is
   * not held (nothing runs it).
   */
  simulateLeaseLoss(type: string, entityId: unknown): boolean {
    this.#started();
    return this.#entities.get(type, entityId).loseLease();
  }

  // ── internals ──────────────────────────────────────────────────────────────

  /** As AtomicEngine: calls before `start()` throw at once. */
  #started(): void {
    if (this.#state === 'new')
      throw new EngineStateError('The engine is not started: call start() first');
  }

  #producing(): void {
    if (this.#state !== 'started')
      throw new EngineStateError(`Cannot enqueue: the engine is ${this.#state}`);
  }

  #canRun(): boolean {
    return this.#state === 'started' && this.#options.processing;
  }

  /**
   * Once started, runs `fn` now; what it throws becomes a rejection, as the engine's async calls
   * do (a call before `start()` throws at once).
   */
  #call<T>(fn: () => T | Promise<T>): Promise<T> {
    this.#started();
    return new Promise<T>((resolve) => resolve(fn()));
  }

  #admin(
    type: string,
    entityId: unknown,
    change: (entity: MemoryEntity) => unknown,
  ): Promise<void> {
    return this.#call(() => {
      const entity = this.#entities.get(type, entityId);
      change(entity);
      entity.pump();
    });
  }
}
