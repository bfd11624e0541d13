import type { KeepJobs } from 'bullmq';
import type { RedisConnection } from '../../redis/connections';
import type { AtomicQueuesLogger } from '../logger';
import type { BackoffOptions, DurabilityOptions, MetricsOptions } from './atomic-queues-options';

/** An entity type's settings once merged with the defaults and checked. */
export interface ResolvedEntityType {
  readonly type: string;
  readonly queueName?: (entityId: string) => string;
  readonly workerName: (entityId: string) => string;
  readonly maxWorkersPerEntity: number;
  readonly idleTimeoutMs: number;
  readonly defaultEntityId?: string;
  readonly concurrency: number;
  readonly attempts: number;
  readonly backoff?: BackoffOptions;
  readonly onFailure: 'continue' | 'pause';
  readonly maxStalledCount: number;
  readonly batchSize: number;
  readonly events: boolean;
  readonly removeOnComplete: boolean | number | KeepJobs;
  readonly removeOnFail: boolean | number | KeepJobs;
}

/** `rebalance` once merged with the defaults and checked. */
export interface ResolvedRebalance {
  readonly enabled: boolean;
  readonly maxMovesPerRound: number;
  readonly tolerance: number;
}

/** The engine's options once merged with {@link DEFAULTS} and checked; frozen. */
export interface ResolvedOptions {
  readonly redis: RedisConnection;
  readonly keyPrefix: string;
  readonly enableCronManager: boolean;
  readonly cronIntervalMs: number;
  readonly processing: boolean;
  readonly heartbeatTtlMs: number;
  readonly heartbeatIntervalMs: number;
  readonly enqueueTimeoutMs: number;
  readonly maxPayloadBytes: number;
  readonly podId?: string;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly logger: AtomicQueuesLogger | false;
  /** Checked for shape; prom-client is loaded by the engine. */
  readonly metrics?: MetricsOptions;
  /** Replicas each enqueue waits for; undefined when off. */
  readonly durability?: Readonly<DurabilityOptions>;
  readonly rebalance: ResolvedRebalance;
  readonly entityDefaults: Omit<ResolvedEntityType, 'type'>;
  readonly entities: ReadonlyMap<string, ResolvedEntityType>;
}
