import { EventEmitter } from 'node:events';
import { EngineStateError, InvalidOptionsError } from '../../errors';
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
import { ManualClock, systemClock, type Clock } from '../clock';
import { EntityCatalog } from '../entities/entity-catalog';
import { entityRef } from '../entities/entity-ref';
import type { EntityJobHandler } from '../entities/job-context';
import type { AtomicQueuesEvents } from '../events';
import { logEngineEvents } from '../logger';
import { checkHealth, type EngineHealth, type HealthOptions } from '../observability/health';
import type {
  AtomicQueuesOptions,
  EntityTypeOptions,
  RedisConnection,
} from '../options/atomic-queues-options';
import type { ResolvedEntityType, ResolvedOptions } from '../options/resolved-options';
import { resolveOptions } from '../options/resolve-options';
import type {
  BulkJob,
  EnqueueAndWaitOptions,
  EnqueueOptions,
  WaitForJobOptions,
} from '../producing/job-request';
import type { ActiveEntity, EngineState, EngineStats } from '../engine-types';
import type { QueueEngine } from '../queue-engine';
import { ReplyWaiters } from '../replies/reply-waiters';
import { RunnerRegistry, type RunnerStats } from '../running/runner-registry';
import { Activity } from './activity';
import { MemoryEntity, type MemoryHost } from './memory-entity';
import { MemoryFailedJobs } from './memory-failed-jobs';
import type { JobRun } from './memory-job';
import { MemoryProducer } from './memory-producer';

/** Options of the in-memory engine: the engine's, with `redis` optional (unused) and a clock. */
export interface InMemoryEngineOptions extends Omit<AtomicQueuesOptions, 'redis'> {
  /** Not used (there is no Redis); accepted so that an app's options can be passed as they are. */
  redis?: RedisConnection;
  /**
   * The engine's time: delays, retry backoffs, idle timeouts and `enqueueAndWait` timeouts.
   * With a `ManualClock` they happen only when the test moves time (`advanceTime`).
   * @defaultValue the system clock
   */
  clock?: Clock;
}

/** Stands for `redis` in the options check: nothing ever connects to it. */
const NO_REDIS = 'redis://in-memory';

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
  readonly #entities = new Map<string, MemoryEntity>();
  readonly #runs: JobRun[] = [];
  readonly #activity = new Activity();
  readonly #waiters: ReplyWaiters;
  readonly #host: MemoryHost;
  readonly #stats: RunnerStats = RunnerRegistry.statsOf(undefined);
  readonly #producer: MemoryProducer;
  readonly #failedJobs: MemoryFailedJobs;
  #state: EngineState = 'new';
  #stopping?: Promise<void>;

  constructor(options: InMemoryEngineOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null)
      throw new InvalidOptionsError('options', 'an object', options);
    const { clock = systemClock, redis = NO_REDIS, ...rest } = options;
    this.#options = resolveOptions({ ...rest, redis });
    if (!isClock(clock))
      throw new InvalidOptionsError(
        'clock',
        'a Clock (now, setTimeout, clearTimeout), e.g. a ManualClock',
        clock,
      );
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
    const state = (): EngineState => this.#state;
    this.#host = {
      podId: this.podId,
      keyPrefix: this.#options.keyPrefix,
      clock,
      events: this,
      waiters: this.#waiters,
      stats: this.#stats,
      activity: this.#activity,
      handlerFor: (type) => this.#catalog.handlerFor(type),
      canRun: () => state() === 'started' && this.#options.processing,
      stopping: () => state() === 'stopping',
      recordRun: (run) => this.#runs.push(run),
      report,
    };
    const entity = (type: string, entityId: unknown): MemoryEntity => this.#entity(type, entityId);
    this.#producer = new MemoryProducer({
      clock,
      waiters: this.#waiters,
      maxPayloadBytes: this.#options.maxPayloadBytes,
      producing: () => this.#producing(),
      entity,
    });
    this.#failedJobs = new MemoryFailedJobs({
      catalog: this.#catalog,
      entity,
      entities: () => this.#entities.values(),
    });
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
    if (wasStarted) {
      for (const entity of this.#entities.values()) entity.interrupt();
      await this.#activity.whenIdle();
      for (const entity of this.#entities.values()) entity.close();
    }
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
    this.#started();
    return this.#async(() => this.#producer.enqueue(type, entityId, name, data, opts));
  }

  enqueueAndWait(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts: EnqueueAndWaitOptions = {},
  ): Promise<unknown> {
    this.#started();
    return this.#async(() => this.#producer.enqueueAndWait(type, entityId, name, data, opts));
  }

  waitForJob(
    type: string,
    entityId: unknown,
    jobId: string,
    opts: WaitForJobOptions = {},
  ): Promise<unknown> {
    this.#started();
    return this.#async(() => this.#producer.waitForJob(type, entityId, jobId, opts));
  }

  enqueueBulk(items: ReadonlyArray<BulkJob>): Promise<string[]> {
    this.#started();
    return this.#async(() => this.#producer.enqueueBulk(items));
  }

  // ── admin ──────────────────────────────────────────────────────────────────

  queueName(type: string, entityId: unknown): string {
    this.#started();
    return this.#entity(type, entityId).queueName;
  }

  getBacklog(type: string, entityId: unknown): Promise<EntityBacklog> {
    this.#started();
    return this.#async(() => this.#entity(type, entityId).queue.backlog());
  }

  listEntities(limit = 10_000): Promise<ClusterEntity[]> {
    this.#started();
    const known = [...this.#entities.values()].filter((e) => e.isHeld || e.queue.holdsJobs());
    return Promise.resolve(
      known.slice(0, limit).map((e) => ({
        entityType: e.type,
        entityId: e.id,
        pod: e.isHeld ? this.podId : null,
      })),
    );
  }

  /** Always empty: this engine holds every entity with work at once. */
  listSpawnRequests(_limit?: number): Promise<SpawnRequest[]> {
    this.#started();
    return Promise.resolve([]);
  }

  claimEntity(type: string, entityId: unknown): Promise<boolean> {
    this.#started();
    const entity = this.#entity(type, entityId);
    if (entity.isHeld || !entity.queue.hasWork() || !this.#host.canRun())
      return Promise.resolve(false);
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
    this.#started();
    return this.#async(() => this.#failedJobs.list(type, entityId, opts));
  }

  /** The entities keeping failed jobs, earliest kept failure first. */
  listFailedEntities(type: string, opts?: PageOptions): Promise<ListPage<FailedEntity>> {
    this.#started();
    return this.#async(() => this.#failedJobs.entities(type, opts));
  }

  retryFailedJobs(
    type: string,
    entityId: unknown,
    jobIds: FailedJobIds,
  ): Promise<RetryFailedJobsResult> {
    this.#started();
    return this.#async(() => this.#failedJobs.retry(type, entityId, jobIds));
  }

  removeFailedJobs(
    type: string,
    entityId: unknown,
    jobIds: FailedJobIds,
  ): Promise<RemoveFailedJobsResult> {
    this.#started();
    return this.#async(() => this.#failedJobs.remove(type, entityId, jobIds));
  }

  skipNextJob(
    type: string,
    entityId: unknown,
    opts: { resume?: boolean } = {},
  ): Promise<SkipNextJobResult> {
    this.#started();
    return this.#async(() => this.#failedJobs.skipNext(type, entityId, opts));
  }

  // ── introspection ──────────────────────────────────────────────────────────

  activeEntities(): ActiveEntity[] {
    return [...this.#entities.values()]
      .map((e) => e.active())
      .filter((a): a is ActiveEntity => a !== undefined);
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
      ...this.#stats,
    };
  }

  // ── helpers for tests ──────────────────────────────────────────────────────

  /**
   * Resolves once no handler runs and no job can start now. Jobs may be left: delayed ones,
   * ones waiting out a retry's backoff (both come back on the engine's clock), and those of a
   * paused entity. Waits for handlers that are still running, the calls of a lost lease too.
   */
  waitIdle(): Promise<void> {
    return this.#activity.whenIdle();
  }

  /**
   * Resolves once every job has finished (completed or failed), delayed ones and retries
   * included: with a ManualClock, time is moved to each one's due time; with the system clock,
   * their time is waited for. Jobs of a paused entity stay. (Unlike `drainEntity`, which removes
   * waiting jobs, this runs them: "drained" as BullMQ's event says.)
   */
  async drain(): Promise<void> {
    for (;;) {
      await this.waitIdle();
      const pending = this.isStarted() && this.#options.processing && this.#pendingJobs();
      if (!pending) return;
      const clock = this.clock;
      if (!(clock instanceof ManualClock)) {
        await new Promise<void>((resolve) => clock.setTimeout(resolve, 10));
        continue;
      }
      const next = clock.nextAt();
      if (next === undefined) return; // nothing scheduled: nothing more will run
      clock.advance(Math.max(0, next - clock.now()));
    }
  }

  /**
   * Moves a ManualClock forward by `ms`, timer by timer: what falls due runs (delayed jobs,
   * retries, idle releases, `enqueueAndWait` timeouts) and the work it starts settles
   * ({@link waitIdle}) before the next timer. To move time while a handler waits for something
   * only the test provides, call the clock's own `advance(ms)`, which does not wait.
   */
  async advanceTime(ms: number): Promise<void> {
    const clock = this.clock;
    if (!(clock instanceof ManualClock))
      throw new EngineStateError(
        'advanceTime() needs a ManualClock: new InMemoryEngine({ clock: new ManualClock() })',
      );
    if (!(typeof ms === 'number' && Number.isFinite(ms) && ms >= 0))
      throw new InvalidOptionsError('ms', 'a number of ms ≥ 0', ms);
    const until = clock.now() + ms;
    for (;;) {
      await this.waitIdle();
      const next = clock.nextAt();
      if (next === undefined || next > until) break;
      clock.advance(Math.max(0, next - clock.now()));
    }
    clock.advance(until - clock.now());
    await this.waitIdle();
  }

  /**
   * The handler calls of one entity (or of every entity), in the order they started: job,
   * payload, attempt, fencing token, and how each ended.
   */
  runs(type?: string, entityId?: unknown): JobRun[] {
    if (type === undefined) return [...this.#runs];
    const { config, id } = this.#catalog.address(type, entityId);
    return this.#runs.filter((r) => r.entityType === config.type && r.entityId === id);
  }

  /**
   * Simulates the loss of an entity's lease, as when another pod takes it over: the running
   * job's handler call goes on but its outcome is dropped, `lease:lost` is emitted, and the job
   * runs again first, under a new holder with a larger fencing token. False when the entity is
   * not held (nothing runs it).
   */
  simulateLeaseLoss(type: string, entityId: unknown): boolean {
    this.#started();
    return this.#entity(type, entityId).loseLease();
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

  /** Runs `fn` now; what it throws becomes a rejection, as the engine's async calls do. */
  #async<T>(fn: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve) => resolve(fn()));
  }

  #admin(
    type: string,
    entityId: unknown,
    change: (entity: MemoryEntity) => unknown,
  ): Promise<void> {
    this.#started();
    return this.#async(() => {
      const entity = this.#entity(type, entityId);
      change(entity);
      entity.pump();
    });
  }

  /** The entity of a type and id (checked), made on first use. */
  #entity(type: string, entityId: unknown): MemoryEntity {
    const { config, id } = this.#catalog.address(type, entityId);
    const ref = entityRef(config.type, id);
    let entity = this.#entities.get(ref);
    if (!entity) {
      entity = new MemoryEntity(config, id, this.#catalog.queueName(config, id), this.#host);
      this.#entities.set(ref, entity);
    }
    return entity;
  }

  /** Whether jobs are left that will run (waiting, delayed, active; not of a paused entity). */
  #pendingJobs(): boolean {
    for (const entity of this.#entities.values()) if (entity.queue.hasWork()) return true;
    return false;
  }
}

function isClock(value: unknown): value is Clock {
  const clock = value as Record<string, unknown> | null;
  return (
    typeof clock === 'object' &&
    clock !== null &&
    ['now', 'setTimeout', 'clearTimeout'].every((m) => typeof clock[m] === 'function')
  );
}
