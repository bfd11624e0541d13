import type { KeepJobs } from 'bullmq';
import type { RedisConnection } from '../../redis/connections';
import type { AtomicQueuesLogger } from '../logger';
import type { PrometheusRegistry } from '../observability/prometheus';

export type { RedisConnection };

/** Per-job execution settings, global (`workerDefaults`) or per entity type (`workerConfig`). */
export interface WorkerConfig {
  /**
   * Jobs of one entity a pod runs at once. Above 1, per-entity order is given up.
   * @defaultValue 1
   */
  concurrency?: number;
  /** Accepted for compatibility with atomic-queues 1.x; leases replace stalled checks. */
  stalledInterval?: number;
  /** Accepted for compatibility with atomic-queues 1.x; a job's lock follows its entity's lease. */
  lockDuration?: number;
  /**
   * Seconds an entity's lease lives without renewal. A dead pod's entities move to another pod
   * within about this long. Renewed every `heartbeatTTL / 3`.
   * @defaultValue 3
   */
  heartbeatTTL?: number;
}

/** Retry settings. Retries run in place, before any later job of the same entity. */
export interface BackoffOptions {
  type: 'fixed' | 'exponential';
  /** Milliseconds before the first retry. */
  delay: number;
}

/** Settings of one entity type (`entities.account`, or a `@WorkerProcessor`). */
export interface EntityTypeOptions {
  /** Name of an entity's BullMQ queue; encoded and wrapped in `{...}` for Redis Cluster. */
  queueName?: (entityId: string) => string;
  /** Name shown for an entity's worker in logs and introspection. */
  workerName?: (entityId: string) => string;
  /**
   * Pods that may run one entity at once. Above 1, per-entity order and exclusion are given up.
   * @defaultValue 1
   */
  maxWorkersPerEntity?: number;
  /**
   * Seconds an entity's worker stays on its pod with nothing to do before releasing it.
   * @defaultValue 15
   */
  idleTimeoutSeconds?: number;
  /** Property holding the entity id on commands of this type without `@QueueEntityId`. */
  defaultEntityId?: string;
  /**
   * Claim entities as soon as jobs arrive. Always on in this version; kept for compatibility.
   * @defaultValue true
   */
  autoSpawn?: boolean;
  /** Overrides `workerDefaults` for this type. */
  workerConfig?: WorkerConfig;
  /**
   * Times a job runs before it is failed.
   * @defaultValue 1
   */
  attempts?: number;
  /** Wait between attempts. @defaultValue no wait */
  backoff?: BackoffOptions;
  /**
   * After a job's last attempt fails: `continue` with the entity's next job, or `pause` the
   * entity until `resume`.
   * @defaultValue 'continue'
   */
  onFailure?: 'continue' | 'pause';
  /**
   * Times a job may be found orphaned (its pod died while running it) before it is failed
   * instead of run again: bounds crash loops. A pod that dies in a batch leaves several jobs
   * orphaned and which one it ran is unknown: each is then taken alone, and only a job found
   * orphaned alone is failed, so a job that kills its pod inside a batch runs once more.
   * @defaultValue 1
   */
  maxStalledCount?: number;
  /**
   * Jobs of one entity a runner takes at once when they are waiting, runs one after another in
   * order, and acknowledges together (one Redis call per batch instead of one per job). A pod
   * that dies mid-batch has the jobs whose completion was not stored run again, at most this
   * many per entity, in order. 1 acknowledges each job before the next starts. Large batches
   * pay off with fast handlers (fewer calls per job); set it lower for slow jobs or jobs whose
   * second run is costly.
   * @defaultValue 64
   */
  batchSize?: number;
  /**
   * Write BullMQ's per-job events (added, active, completed, ...) to the entity's events stream,
   * for BullMQ's `QueueEvents` and tools that show them. Off saves Redis about a fifth of its
   * work per job; job states and counts stay readable either way.
   * @defaultValue true
   */
  events?: boolean;
  /**
   * How long completed jobs stay inspectable (BullMQ's `removeOnComplete`: `true` removes them at
   * once, a number keeps the last n, `{ age, count }` keeps them `age` seconds and at most `count`
   * per entity). Applied by Redis's clock, also to entities that get no more jobs.
   * @defaultValue `{ age: 3600, count: 100 }`
   */
  removeOnComplete?: boolean | number | KeepJobs;
  /**
   * How long failed jobs stay inspectable (and retryable), as `removeOnComplete`.
   * @defaultValue `{ age: 604800, count: 1000 }` (a week, 1,000 per entity)
   */
  removeOnFail?: boolean | number | KeepJobs;
}

/**
 * Makes an enqueue wait until replicas have the job (Redis `WAIT` on the connection and node
 * that took the write). Redis replicates asynchronously: without it, a master that fails just
 * after acknowledging a job can take the job with it when its replica is promoted.
 */
export interface DurabilityOptions {
  /** Replicas of the entity's master that must confirm the write (integer ≥ 1). */
  replicas: number;
  /**
   * Milliseconds to wait for them (integer ≥ 1, below `enqueueTimeoutMs`). Past it the enqueue
   * rejects with ReplicationTimeoutError; the job is stored on the master all the same. `WAIT`
   * holds the pod's command connection meanwhile: keep it well under `heartbeatTTL`.
   */
  timeoutMs: number;
}

/** Prometheus metrics of the engine (README "Operations"). */
export interface MetricsOptions {
  /**
   * The prom-client `Registry` the metrics are registered in; engines sharing one add up.
   * @defaultValue prom-client's default registry (`register`)
   */
  registry?: PrometheusRegistry;
}

/** Moving held entities to pods below their fair share (README G5). */
export interface RebalanceOptions {
  /**
   * Hand entities over, between two jobs, from a pod above its fair share to pods below it.
   * @defaultValue true
   */
  enabled?: boolean;
  /**
   * Entities a pod hands over per heartbeat (every `heartbeatTTL / 3`), at most.
   * @defaultValue 50
   */
  maxMovesPerRound?: number;
  /**
   * How far from an even share (a fraction of it) every pod may be before entities move: the
   * fleet is left alone while each pod holds within `even × (1 ± tolerance)`. From 0 to 1.
   * @defaultValue 0.15
   */
  tolerance?: number;
}

/** Options of the engine (and of `AtomicQueuesModule.forRoot`). Only `redis` is required. */
export interface AtomicQueuesOptions {
  redis: RedisConnection;
  /**
   * Namespace of every Redis key: letters, digits, `_`, `.`, `-` and `:` (what key names, Cluster
   * hash tags and SCAN patterns take as they are). @defaultValue 'aq'
   */
  keyPrefix?: string;
  /**
   * Runs the safety sweep that takes over entities whose pod died. Turning it off removes the
   * liveness guarantee for entities nobody enqueues to. @defaultValue true
   */
  enableCronManager?: boolean;
  /** Milliseconds between safety sweeps. @defaultValue 1000 */
  cronInterval?: number;
  /** Set to false on a producer-only pod: it enqueues and runs nothing. @defaultValue true */
  processing?: boolean;
  workerDefaults?: WorkerConfig;
  entities?: Record<string, EntityTypeOptions>;
  /** Milliseconds an enqueue waits for Redis before it rejects. @defaultValue 5000 */
  enqueueTimeoutMs?: number;
  /** Largest serialized job payload, in bytes. @defaultValue 524288 (512 KiB) */
  maxPayloadBytes?: number;
  /** Identifies this pod in Redis and introspection. @defaultValue host name, pid and random */
  podId?: string;
  /**
   * Milliseconds `start()` (in Nest: the application's bootstrap) waits for Redis before it
   * fails with RedisConnectionError naming the host and the cause. Wrong credentials and TLS
   * failures fail at once. @defaultValue 10000
   */
  startTimeoutMs?: number;
  /**
   * Milliseconds `stop()` (in Nest: the application's shutdown) keeps waiting for an unreachable
   * Redis to hand the pod's leases back. Past it, stop closes the connections anyway and reports
   * it (an `error` event); the entities are taken over once their leases expire (heartbeatTTL),
   * and a job whose completion was not stored runs again, as after a crash. While Redis answers,
   * stop waits for running jobs however long they take. @defaultValue 10000
   */
  stopTimeoutMs?: number;
  /**
   * Where the engine logs background errors and Redis outages (one warning when Redis is lost,
   * one line when it is back): any object with `log`, `warn` and `error` (Nest's `LoggerService`
   * shape), or `false` for nothing. The Nest module passes Nest's `Logger` unless you set one.
   * @defaultValue the console, prefixed `[atomic-queues]`
   */
  logger?: AtomicQueuesLogger | false;
  /**
   * Keeps the `atomic_queues_*` Prometheus metrics (jobs completed, failed, retried, their
   * duration and wait, entities held, leases lost, Redis reconnects) in a prom-client registry.
   * Needs prom-client, an optional peer dependency: without this option it is never loaded.
   * @defaultValue off
   */
  metrics?: MetricsOptions;
  /**
   * Enqueues resolve only once `replicas` replicas confirmed the job (README "Redis Cluster").
   * @defaultValue off: an enqueue resolves once the master stored the job
   */
  durability?: DurabilityOptions;
  /**
   * Rebalancing of held entities: a pod above its fair share hands entities over, between two
   * jobs, to pods below it, a few per heartbeat, once the set of pods has been stable for a TTL
   * (README G5).
   * @defaultValue `{ enabled: true, maxMovesPerRound: 50, tolerance: 0.15 }`
   */
  rebalance?: RebalanceOptions;
}
