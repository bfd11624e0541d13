import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { EngineStateError } from '../errors';
import { KeyBuilder } from '../redis/keys';
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
import { attachInternals } from './engine-internals';
import { Pod } from './pod';
import { RunnerRegistry } from './running/runner-registry';
import type { ActiveEntity, EngineState, EngineStats } from './engine-types';

/**
 * The engine's lifecycle, entity types and introspection: the base of {@link AtomicEngine}, which
 * adds the enqueue family and admin. Split only to keep each file readable; use AtomicEngine.
 */
export class EngineCore extends EventEmitter<AtomicQueuesEvents> {
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
    attachInternals(this, { catalog: this.#catalog, pod: () => this.#pod });
    // Also the 'error' listener, without which EventEmitter would throw.
    logEngineEvents(this, this.#options.logger);
    this.#tracing = startTracing();
    this.#metrics = startMetrics(this.#options.metrics, this, () =>
      (this.#pod?.runners.all() ?? []).map((r) => r.entity.type),
    );
  }

  /** The namespace of this engine's Redis keys (also BullMQ's `prefix` of the entities' queues). */
  get keyPrefix(): string {
    return this.#options.keyPrefix;
  }

  /** Declares an entity type (or changes its settings before start). */
  registerEntityType(type: string, options: EntityTypeOptions = {}): void {
    this.#catalog.registerEntityType(type, options);
  }

  /** Sets the function that runs the jobs of an entity type; declares the type if needed. */
  registerHandler<T = unknown>(type: string, handler: EntityJobHandler<T>): void {
    this.#catalog.registerHandler(type, handler as EntityJobHandler);
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

  #report(error: unknown, context: string): void {
    this.emit('error', error instanceof Error ? error : new Error(String(error)), context);
  }
}
