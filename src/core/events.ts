import type { LeaseLostError, RedisConnectionReason } from '../errors';

/** An entity was claimed by this pod (`entity:claimed`). */
export interface EntityClaimedEvent {
  entityType: string;
  entityId: string;
  fencingToken: number;
}

/**
 * Why a pod let go of an entity: idle (`released`), shutting down (`stopped`), lease lost,
 * runner error, or handed to a pod below its fair share between two jobs (`rebalanced`).
 */
export type ReleaseReason = 'released' | 'stopped' | 'lost' | 'error' | 'rebalanced';

/** This pod let go of an entity (`entity:released`) or lost its lease (`lease:lost`). */
export interface EntityReleasedEvent extends EntityClaimedEvent {
  reason: ReleaseReason;
  /** With `lease:lost`, when Redis refused a write: what it refused. */
  error?: LeaseLostError;
}

/** A job of this pod finished (`job:completed` / `job:failed`). */
export interface JobFinishedEvent extends EntityClaimedEvent {
  jobId: string;
  name: string;
  /** From the start of its first attempt to the end of its last (this pod's clock). */
  durationMs: number;
  /** From its enqueue to the start of its first run (Redis's clock); NaN when unknown. */
  waitMs: number;
}

export interface JobCompletedEvent extends JobFinishedEvent {
  result: unknown;
}

export interface JobFailedEvent extends JobFinishedEvent {
  error: unknown;
  /** Attempts made, the last included. */
  attempts: number;
}

/** A job's attempt failed and it will be run again, in place (`job:retrying`). */
export interface JobRetryingEvent extends EntityClaimedEvent {
  jobId: string;
  name: string;
  /** The attempt that failed (1 for the first run). */
  attempt: number;
  error: unknown;
  /** Milliseconds until the next attempt (the backoff). */
  delayMs: number;
}

/**
 * This pod lost Redis (`redis:lost`): once per outage, when the first of its connections drops.
 * ioredis reconnects by itself; commands wait meanwhile (enqueues up to `enqueueTimeoutMs`).
 */
export interface RedisLostEvent {
  /** Where Redis is: `host:port`, a socket path, Sentinels or Cluster nodes; never credentials. */
  target: string;
  /** Why, as far as the connection tells: `closed` when Redis went away, `refused`, ... */
  reason: RedisConnectionReason;
  /** The same in words, e.g. `the server closed the connection`. */
  message: string;
}

/** Every connection of this pod is ready again (`redis:restored`): once per `redis:lost`. */
export interface RedisRestoredEvent {
  target: string;
  /** Milliseconds since the `redis:lost` it ends. */
  downtimeMs: number;
}

/** Every event of an engine (this pod) and its listener's arguments. */
export interface AtomicQueuesEvents {
  'entity:claimed': [EntityClaimedEvent];
  'entity:released': [EntityReleasedEvent];
  'lease:lost': [EntityReleasedEvent];
  'job:completed': [JobCompletedEvent];
  'job:failed': [JobFailedEvent];
  'job:retrying': [JobRetryingEvent];
  'redis:lost': [RedisLostEvent];
  'redis:restored': [RedisRestoredEvent];
  /**
   * A background loop hit an error; `context` says what it was doing. Connection errors come as
   * `redis:lost` instead, once per outage.
   */
  error: [error: Error, context: string];
}

/** Where the engine's parts send events: the engine itself, a typed EventEmitter. */
export interface EventSink {
  emit<E extends keyof AtomicQueuesEvents>(event: E, ...args: AtomicQueuesEvents[E]): boolean;
}
