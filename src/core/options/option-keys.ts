import { InvalidOptionsError } from '../../errors';
import type {
  AtomicQueuesOptions,
  BackoffOptions,
  DurabilityOptions,
  EntityTypeOptions,
  MetricsOptions,
  RebalanceOptions,
  WorkerConfig,
} from './atomic-queues-options';
import { closestName } from './closest-name';

/** The keys of `T`, each listed once: the compiler refuses a missing or an extra one. */
export function keysOf<T>(keys: Record<keyof T, true>): readonly string[] {
  return Object.freeze(Object.keys(keys));
}

export const OPTION_KEYS = keysOf<AtomicQueuesOptions>({
  redis: true,
  keyPrefix: true,
  enableCronManager: true,
  cronInterval: true,
  processing: true,
  workerDefaults: true,
  entities: true,
  enqueueTimeoutMs: true,
  maxPayloadBytes: true,
  podId: true,
  startTimeoutMs: true,
  stopTimeoutMs: true,
  logger: true,
  metrics: true,
  durability: true,
  rebalance: true,
});

export const METRICS_KEYS = keysOf<MetricsOptions>({ registry: true });

export const DURABILITY_KEYS = keysOf<DurabilityOptions>({ replicas: true, timeoutMs: true });

export const REBALANCE_KEYS = keysOf<RebalanceOptions>({
  enabled: true,
  maxMovesPerRound: true,
  tolerance: true,
});

/** `workerDefaults` and `workerConfig`, with the 1.x keys `stalledInterval` and `lockDuration`. */
export const WORKER_CONFIG_KEYS = keysOf<WorkerConfig>({
  concurrency: true,
  heartbeatTTL: true,
  lockDuration: true,
  stalledInterval: true,
});

/** `entities.<type>` and `@WorkerProcessor`, with the 1.x key `autoSpawn`. */
export const ENTITY_TYPE_KEYS = keysOf<EntityTypeOptions>({
  queueName: true,
  workerName: true,
  maxWorkersPerEntity: true,
  idleTimeoutSeconds: true,
  defaultEntityId: true,
  autoSpawn: true,
  workerConfig: true,
  attempts: true,
  backoff: true,
  onFailure: true,
  maxStalledCount: true,
  batchSize: true,
  events: true,
  removeOnComplete: true,
  removeOnFail: true,
});

const BACKOFF_KEYS = keysOf<BackoffOptions>({ type: true, delay: true });

/**
 * Throws InvalidOptionsError for a key of `value` that is not in `known` (a typo, an option of
 * another library), naming the closest known key. `at` is where `value` sits (`workerDefaults`);
 * undefined at the top level. Keys set to `undefined` count too: a typo is a typo.
 */
export function checkKeys(value: object, known: readonly string[], at?: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key))
      throw InvalidOptionsError.unknownKey(at, key, known, closestName(key, known));
  }
}

/** Checks `value` is a plain object (not an array), then its keys; `at` names it in errors. */
export function checkOptionObject(value: unknown, known: readonly string[], at: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidOptionsError(at, 'an object', value);
  checkKeys(value, known, at);
}

/**
 * The keys of one entity type's options and of its `workerConfig` and `backoff`; `extra` are
 * keys the caller owns (`entityType` in `@WorkerProcessor`).
 */
export function checkEntityTypeKeys(raw: object, at: string, extra: readonly string[] = []): void {
  checkKeys(raw, extra.length > 0 ? [...ENTITY_TYPE_KEYS, ...extra] : ENTITY_TYPE_KEYS, at);
  const { workerConfig, backoff } = raw as EntityTypeOptions;
  if (workerConfig !== undefined)
    checkOptionObject(workerConfig, WORKER_CONFIG_KEYS, `${at}.workerConfig`);
  if (backoff !== undefined) checkOptionObject(backoff, BACKOFF_KEYS, `${at}.backoff`);
}
