import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { EngineStateError } from '../errors';
import { KeyBuilder } from '../redis/keys';
import type { ClusterEntity, EntityBacklog, SpawnRequest } from './admin/entity-admin';
import type {
  FailedEntity,
  FailedJob,
  FailedJobIds,
  ListPage,
  PageOptions,
  RemoveFailedJobsResult,
  RetryFailedJobsResult,
  SkipNextJobResult,
} from './admin/failed-jobs';
import { systemClock } from './clock';
import { EntityCatalog } from './entities/entity-catalog';
import type { EntityJobHandler } from './entities/job-context';
import type { AtomicQueuesEvents } from './events';
import { logEngineEvents } from './logger';
import { startMetrics, type EngineMetrics } from './observability/engine-metrics';
import { checkHealth, type EngineHealth, type HealthOptions } from './observability/health';
import { startTracing, type JobTracing } from './observability/job-tracing';
import type { AtomicQueuesOptions, EntityTypeOptions } from './options/atomic-queues-options';
import type { ResolvedEntityType, ResolvedOptions } from './options/resolved-options';
import { resolveOptions } from './options/resolve-options';
import { Pod } from './pod';
import { RunnerRegistry } from './running/runner-registry';
import type {
  BulkJob,
  EnqueueAndWaitOptions,
  EnqueueOptions,
  WaitForJobOptions,
} from './producing/job-request';
import type { ActiveEntity, EngineState, EngineStats } from './engine-types';

/**
 * The framework-free engine: per-entity sequential execution over BullMQ queues, with leases,
 * fencing tokens and a fixed number of Redis connections per pod. A façade: lifecycle, the
 * enqueue family, admin and introspection; the work is done by the parts of {@link Pod}.
 * docs/DESIGN.md maps them.
 *
 * Events (typed, see AtomicQueuesEvents): `error` (err, context), `entity:claimed`,
 * `entity:released`, `lease:lost`, `job:completed`, `job:failed`, `job:retrying`, `redis:lost`,
 * `redis:restored`. The `logger` option logs errors and outages. Operations (README): `metrics`
 * option, spans when an OpenTelemetry tracer provider is registered, `health()`.
 */
export class AtomicEngine extends EventEmitter<AtomicQueuesEvents> {
  readonly podId: string;
  readonly #options: ResolvedOptions;
  readonly #catalog: EntityCatalog;
  readonly #tracing?: JobTracing;
  readonly #metrics?: EngineMetrics;
  #state: EngineState = 'new';
  #pod?: Pod;
  #starting?: Promise<void>;
  #stopping?: Promise<void>;

  constructor(options: AtomicQueuesOptions) {
    super();
    this.#options = resolveOptions(options);
    this.podId =
      this.#options.podId ??
      `${hostname().replace(/[^A-Za-z0-9_.]/g, '_')}.${process.pid}.${randomBytes(4).toString('hex')}`;
    this.#catalog = new EntityCatalog(
      this.#options,
      new KeyBuilder(this.#options.keyPrefix),
      this.podId,
      (ref) => this.#pod?.runners.has(ref) ?? false,
      () => this.#pod?.runners.size ?? 0,
    );
    // Also the 'error' listener, without which EventEmitter would throw.
    logEngineEvents(this, this.#options.logger);
    this.#tracing = startTracing();
    this.#metrics = startMetrics(this.#options.metrics, this, () =>
      (this.#pod?.runners.all() ?? []).map((r) => r.entity.type),
    );
  }

  /** Declares an entity type (or changes its settings before start). */
  registerEntityType(type: string, options: EntityTypeOptions = {}): void {
    this.#catalog.registerEntityType(type, options);
  }

  /** Sets the function that runs the jobs of an entity type; declares the type if needed. */
  registerHandler(type: string, handler: EntityJobHandler): void {
    this.#catalog.registerHandler(type, handler);
  }

  /** The declared entity types. */
  entityTypes(): string[] {
    return this.#catalog.entityTypes();
  }

  /** An entity type's settings, resolved with the defaults; undefined when it is not declared. */
  entityType(type: string): ResolvedEntityType | undefined {
    return this.#catalog.entityType(type);
  }

  /**
   * Connects to Redis and starts taking work (on a processing pod). Rejects with
   * RedisConnectionError when Redis can't be reached within `startTimeoutMs` (at once for wrong
   * credentials or TLS), having closed what it opened; start() may then be called again.
   */
  start(): Promise<void> {
    if (this.#state !== 'new')
      return Promise.reject(
        new EngineStateError(`start() was already called (state: ${this.#state})`),
      );
    this.#state = 'starting';
    this.#starting = this.#open().catch((err: unknown) => {
      if (this.#state === 'starting') this.#state = 'new';
      throw err;
    });
    return this.#starting;
  }

  async #open(): Promise<void> {
    const keys = new KeyBuilder(this.#options.keyPrefix);
    this.#pod = await Pod.open({
      podId: this.podId,
      options: this.#options,
      keys,
      clock: systemClock,
      catalog: this.#catalog,
      events: this,
      tracing: this.#tracing,
      report: (error, context) => this.#report(error, context),
      state: () => this.#state,
    });
    // Started before the loops run, so that their first round already takes work.
    this.#state = 'started';
    this.#pod.startLoops();
  }

  /**
   * Graceful stop: stops taking work, lets each running job finish, releases every lease (handing
   * entities with work to other pods at once) and closes the connections.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#close();
    return this.#stopping;
  }

  async #close(): Promise<void> {
    // A start under way finishes first (or fails), so that nothing it opens stays open.
    await this.#starting?.catch(() => undefined);
    const pod = this.#pod;
    if (pod && this.#state === 'started') {
      this.#state = 'stopping';
      await pod.close();
    }
    this.#state = 'stopped';
    this.#metrics?.close();
  }

  /** True between `start()` resolving and `stop()` being called. */
  isStarted(): boolean {
    return this.#state === 'started';
  }

  // ── enqueue ────────────────────────────────────────────────────────────────

  /** Stores a job for an entity; resolves with its id once Redis has it. */
  enqueue(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts?: EnqueueOptions,
  ): Promise<string> {
    return this.#started().producer.enqueue(type, entityId, name, data, opts);
  }

  /** Enqueues and waits for the handler's result; rejects with the handler's error. */
  enqueueAndWait(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts?: EnqueueAndWaitOptions,
  ): Promise<unknown> {
    return this.#started().producer.enqueueAndWait(type, entityId, name, data, opts);
  }

  /**
   * Waits for the result of a job enqueued earlier (by any pod), addressed by its entity and id:
   * resolves with its result or rejects with its error (`JobFailedError`), at once when it has
   * finished; `JobNotFoundError` when no such job is stored (never enqueued, or removed by
   * retention); `JobTimeoutError` after `timeoutMs`.
   */
  waitForJob(
    type: string,
    entityId: unknown,
    jobId: string,
    opts?: WaitForJobOptions,
  ): Promise<unknown> {
    return this.#started().producer.waitForJob(type, entityId, jobId, opts);
  }

  /** Enqueues many jobs; resolves with their ids in order. Jobs of one entity keep their order. */
  enqueueBulk(items: ReadonlyArray<BulkJob>): Promise<string[]> {
    return this.#started().producer.enqueueBulk(items);
  }

  // ── admin ──────────────────────────────────────────────────────────────────

  /** Name of an entity's BullMQ queue (for BullMQ tools); checks the type and id. */
  queueName(type: string, entityId: unknown): string {
    this.#started();
    return this.#catalog.handle(type, entityId).queueName;
  }

  /** Job counts of one entity's queue. */
  getBacklog(type: string, entityId: unknown): Promise<EntityBacklog> {
    return this.#started().admin.backlog(type, entityId);
  }

  /**
   * Entities the cluster knows of (held, or with work waiting for a holder), with the pod holding
   * each (`null` when none does right now). Reads the sweep index: cost grows with its size.
   */
  listEntities(limit?: number): Promise<ClusterEntity[]> {
    return this.#started().admin.list(limit);
  }

  /** Entities with work waiting for a pod to claim them, oldest first. */
  listSpawnRequests(limit?: number): Promise<SpawnRequest[]> {
    return this.#started().admin.spawnRequests(limit);
  }

  /** Claims an entity on this pod if it has work and no pod holds it; true when this pod got it. */
  claimEntity(type: string, entityId: unknown): Promise<boolean> {
    return this.#started().admin.claimIfWork(type, entityId);
  }

  /** Stops running an entity's jobs after the current one; new jobs are still accepted. */
  pauseEntity(type: string, entityId: unknown): Promise<void> {
    return this.#started().admin.pause(type, entityId);
  }

  /** Resumes a paused entity; its waiting jobs are picked up at once. */
  resumeEntity(type: string, entityId: unknown): Promise<void> {
    return this.#started().admin.resume(type, entityId);
  }

  /** Removes an entity's waiting (and, with `delayed`, delayed) jobs. Running jobs finish. */
  drainEntity(type: string, entityId: unknown, opts?: { delayed?: boolean }): Promise<void> {
    return this.#started().admin.drain(type, entityId, opts);
  }

  // ── failed jobs ────────────────────────────────────────────────────────────

  /** A page of an entity's failed jobs, oldest failure first (`limit` 1 to 1,000, default 100). */
  listFailedJobs(
    type: string,
    entityId: unknown,
    opts?: PageOptions,
  ): Promise<ListPage<FailedJob>> {
    return this.#started().failedJobs.list(type, entityId, opts);
  }

  /** A page of the entities of a type that keep failed jobs, earliest first failure first. */
  listFailedEntities(type: string, opts?: PageOptions): Promise<ListPage<FailedEntity>> {
    return this.#started().failedJobs.entities(type, opts);
  }

  /**
   * Puts failed jobs of an entity back at the head of its queue (oldest failure first, with
   * their attempts anew) and has the entity run them, unless it is paused. Ids that are not
   * failed jobs of the entity are reported in `notFound`: a second call changes nothing.
   */
  retryFailedJobs(
    type: string,
    entityId: unknown,
    jobIds: FailedJobIds,
  ): Promise<RetryFailedJobsResult> {
    return this.#started().failedJobs.retry(type, entityId, jobIds);
  }

  /** Removes failed jobs of an entity; ids that are not failed jobs of it are in `notFound`. */
  removeFailedJobs(
    type: string,
    entityId: unknown,
    jobIds: FailedJobIds,
  ): Promise<RemoveFailedJobsResult> {
    return this.#started().failedJobs.remove(type, entityId, jobIds);
  }

  /**
   * Moves the next waiting job of a paused entity to failed without running it (reason
   * `skipped`); the entity stays paused unless `resume: true`. `EntityNotPausedError` when the
   * entity is not paused.
   */
  skipNextJob(
    type: string,
    entityId: unknown,
    opts?: { resume?: boolean },
  ): Promise<SkipNextJobResult> {
    return this.#started().failedJobs.skipNext(type, entityId, opts);
  }

  // ── introspection ──────────────────────────────────────────────────────────

  /** The entities this pod runs now. */
  activeEntities(): ActiveEntity[] {
    return this.#pod?.runners.describe() ?? [];
  }

  /**
   * Is this pod fit to work? Redis answers a PING (within `timeoutMs`), the leases were renewed
   * within their TTL, and the pod's loops came round recently. Never rejects: what is wrong is
   * in `reasons`. See EngineHealth and README "Operations".
   */
  health(options?: HealthOptions): Promise<EngineHealth> {
    return checkHealth(
      {
        podId: this.podId,
        clock: systemClock,
        leaseTtlMs: this.#options.heartbeatTtlMs,
        state: () => this.#state,
        pod: () => this.#pod?.probe(),
      },
      options,
    );
  }

  /** This pod's counters. */
  getStats(): EngineStats {
    const runners = this.#pod?.runners;
    return {
      podId: this.podId,
      activeEntities: runners?.size ?? 0,
      ...RunnerRegistry.statsOf(runners),
    };
  }

  #started(): Pod {
    if (!this.#pod) throw new EngineStateError('The engine is not started: call start() first');
    return this.#pod;
  }

  #report(error: unknown, context: string): void {
    this.emit('error', error instanceof Error ? error : new Error(String(error)), context);
  }
}
