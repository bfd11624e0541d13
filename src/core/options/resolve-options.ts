import { maskRedisUrl } from '../../redis/redis-target';
import { consoleLogger } from '../logger';
import { isPrometheusRegistry } from '../observability/prometheus';
import type {
  AtomicQueuesOptions,
  DurabilityOptions,
  MetricsOptions,
  RebalanceOptions,
} from './atomic-queues-options';
import { check, isInt, isNum, isOptFn } from './option-checks';
import {
  DURABILITY_KEYS,
  METRICS_KEYS,
  OPTION_KEYS,
  REBALANCE_KEYS,
  WORKER_CONFIG_KEYS,
  checkKeys,
  checkOptionObject,
} from './option-keys';
import { NAME, resolveEntityType } from './resolve-entity-type';
import type { ResolvedEntityType, ResolvedOptions, ResolvedRebalance } from './resolved-options';

export const DEFAULTS = Object.freeze({
  keyPrefix: 'aq',
  enableCronManager: true,
  cronInterval: 1000,
  processing: true,
  heartbeatTTL: 3,
  concurrency: 1,
  maxWorkersPerEntity: 1,
  idleTimeoutSeconds: 15,
  attempts: 1,
  onFailure: 'continue' as const,
  maxStalledCount: 1,
  batchSize: 64,
  events: true,
  // Finished jobs stay inspectable for a while, then go: an idle entity costs no memory.
  removeOnComplete: Object.freeze({ age: 3600, count: 100 }),
  removeOnFail: Object.freeze({ age: 7 * 24 * 3600, count: 1000 }),
  enqueueTimeoutMs: 5000,
  maxPayloadBytes: 512 * 1024,
  startTimeoutMs: 10_000,
  stopTimeoutMs: 10_000,
  rebalance: Object.freeze({ enabled: true, maxMovesPerRound: 50, tolerance: 0.15 }),
});

const KEY_PREFIX = /^[A-Za-z0-9_.:-]+$/;
const POD_ID = /^[A-Za-z0-9_.-]+$/;

const isLogger = (v: unknown): boolean =>
  typeof v === 'object' &&
  v !== null &&
  ['log', 'warn', 'error'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function') &&
  isOptFn((v as Record<string, unknown>).debug);

function checkRedis(redis: unknown): void {
  if (typeof redis === 'string') {
    check(
      /^rediss?:\/\//.test(redis),
      'redis',
      'a redis:// or rediss:// URL, connection options or an ioredis client',
      maskRedisUrl(redis), // never echo credentials
    );
    return;
  }
  check(
    typeof redis === 'object' && redis !== null && !Array.isArray(redis),
    'redis',
    'a redis:// or rediss:// URL, connection options or an ioredis client',
    redis,
  );
  const opts = redis as Record<string, unknown>;
  if (typeof opts.sendCommand === 'function') return; // an ioredis Redis or Cluster instance
  if (opts.port !== undefined)
    check(
      isInt(opts.port, 1) && (opts.port as number) <= 65535,
      'redis.port',
      'an integer from 1 to 65535',
      opts.port,
    );
  if (opts.host !== undefined)
    check(
      typeof opts.host === 'string' && opts.host.length > 0,
      'redis.host',
      'a non-empty string',
      opts.host,
    );
  if (opts.db !== undefined) check(isInt(opts.db, 0), 'redis.db', 'an integer ≥ 0', opts.db);
}

function checkMetrics(metrics: unknown): MetricsOptions | undefined {
  if (metrics === undefined) return undefined;
  check(
    typeof metrics === 'object' && metrics !== null && !Array.isArray(metrics),
    'metrics',
    '{ registry?: a prom-client Registry }',
    metrics,
  );
  checkKeys(metrics as object, METRICS_KEYS, 'metrics');
  const { registry } = metrics as MetricsOptions;
  check(
    registry === undefined || isPrometheusRegistry(registry),
    'metrics.registry',
    'a prom-client Registry',
    registry,
  );
  return Object.freeze({ registry });
}

function checkDurability(
  durability: unknown,
  enqueueTimeoutMs: number,
): Readonly<DurabilityOptions> | undefined {
  if (durability === undefined) return undefined;
  checkOptionObject(durability, DURABILITY_KEYS, 'durability');
  const { replicas, timeoutMs } = durability as DurabilityOptions;
  check(isInt(replicas, 1), 'durability.replicas', 'an integer ≥ 1', replicas);
  check(isInt(timeoutMs, 1), 'durability.timeoutMs', 'an integer number of ms ≥ 1', timeoutMs);
  check(
    timeoutMs < enqueueTimeoutMs,
    'durability.timeoutMs',
    `below \`enqueueTimeoutMs\` (${enqueueTimeoutMs} ms), so that an enqueue can report it`,
    timeoutMs,
  );
  return Object.freeze({ replicas, timeoutMs });
}

function checkRebalance(rebalance: unknown): ResolvedRebalance {
  if (rebalance === undefined) return DEFAULTS.rebalance;
  checkOptionObject(rebalance, REBALANCE_KEYS, 'rebalance');
  const r = rebalance as RebalanceOptions;
  const d = DEFAULTS.rebalance;
  const out = {
    enabled: r.enabled ?? d.enabled,
    maxMovesPerRound: r.maxMovesPerRound ?? d.maxMovesPerRound,
    tolerance: r.tolerance ?? d.tolerance,
  };
  check(typeof out.enabled === 'boolean', 'rebalance.enabled', 'a boolean', r.enabled);
  check(
    isInt(out.maxMovesPerRound, 1),
    'rebalance.maxMovesPerRound',
    'an integer ≥ 1',
    r.maxMovesPerRound,
  );
  check(
    isNum(out.tolerance, 0) && out.tolerance <= 1,
    'rebalance.tolerance',
    'a number from 0 to 1',
    r.tolerance,
  );
  return Object.freeze(out);
}

/** Merges user options with {@link DEFAULTS} and validates them; throws InvalidOptionsError. */
export function resolveOptions(options: AtomicQueuesOptions): ResolvedOptions {
  check(typeof options === 'object' && options !== null, 'options', 'an object', options);
  checkKeys(options, OPTION_KEYS);
  check(
    options.redis !== undefined && options.redis !== null,
    'redis',
    'connection options, a URL or an ioredis client',
    options.redis,
  );
  checkRedis(options.redis);
  const keyPrefix = options.keyPrefix ?? DEFAULTS.keyPrefix;
  check(
    typeof keyPrefix === 'string' && KEY_PREFIX.test(keyPrefix),
    'keyPrefix',
    'a non-empty string of letters, digits, `_`, `.`, `-` or `:`',
    options.keyPrefix,
  );
  const w = options.workerDefaults ?? {};
  checkOptionObject(w, WORKER_CONFIG_KEYS, 'workerDefaults');
  const heartbeatTTL = w.heartbeatTTL ?? DEFAULTS.heartbeatTTL;
  check(
    isNum(heartbeatTTL, 0.3),
    'workerDefaults.heartbeatTTL',
    'a number of seconds ≥ 0.3',
    w.heartbeatTTL,
  );
  const cronInterval = options.cronInterval ?? DEFAULTS.cronInterval;
  check(
    isInt(cronInterval, 50),
    'cronInterval',
    'an integer number of ms ≥ 50',
    options.cronInterval,
  );
  const enqueueTimeoutMs = options.enqueueTimeoutMs ?? DEFAULTS.enqueueTimeoutMs;
  check(
    isInt(enqueueTimeoutMs, 1),
    'enqueueTimeoutMs',
    'an integer number of ms ≥ 1',
    options.enqueueTimeoutMs,
  );
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes;
  check(
    isInt(maxPayloadBytes, 1),
    'maxPayloadBytes',
    'an integer number of bytes ≥ 1',
    options.maxPayloadBytes,
  );
  const processing = options.processing ?? DEFAULTS.processing;
  check(typeof processing === 'boolean', 'processing', 'a boolean', options.processing);
  const enableCronManager = options.enableCronManager ?? DEFAULTS.enableCronManager;
  check(
    typeof enableCronManager === 'boolean',
    'enableCronManager',
    'a boolean',
    options.enableCronManager,
  );
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULTS.startTimeoutMs;
  check(
    isInt(startTimeoutMs, 1),
    'startTimeoutMs',
    'an integer number of ms ≥ 1',
    options.startTimeoutMs,
  );
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs;
  check(
    isInt(stopTimeoutMs, 1),
    'stopTimeoutMs',
    'an integer number of ms ≥ 1',
    options.stopTimeoutMs,
  );
  const logger = options.logger ?? consoleLogger;
  check(
    logger === false || isLogger(logger),
    'logger',
    'false or an object with log, warn and error functions (a Nest LoggerService)',
    options.logger,
  );
  check(
    options.podId === undefined ||
      (typeof options.podId === 'string' && POD_ID.test(options.podId)),
    'podId',
    'a string of letters, digits, `_`, `.` or `-`',
    options.podId,
  );

  const metrics = checkMetrics(options.metrics);
  const durability = checkDurability(options.durability, enqueueTimeoutMs);
  const rebalance = checkRebalance(options.rebalance);

  const entityDefaults = resolveEntityType(
    '*',
    { workerConfig: { concurrency: w.concurrency ?? DEFAULTS.concurrency } },
    {
      workerName: (id) => id,
      maxWorkersPerEntity: DEFAULTS.maxWorkersPerEntity,
      idleTimeoutMs: DEFAULTS.idleTimeoutSeconds * 1000,
      concurrency: DEFAULTS.concurrency,
      attempts: DEFAULTS.attempts,
      onFailure: DEFAULTS.onFailure,
      maxStalledCount: DEFAULTS.maxStalledCount,
      batchSize: DEFAULTS.batchSize,
      events: DEFAULTS.events,
      removeOnComplete: DEFAULTS.removeOnComplete,
      removeOnFail: DEFAULTS.removeOnFail,
    },
  );
  const entities = new Map<string, ResolvedEntityType>();
  const declared = options.entities ?? {};
  check(
    typeof declared === 'object' && declared !== null && !Array.isArray(declared),
    'entities',
    'an object of entity types',
    declared,
  );
  for (const [type, raw] of Object.entries(declared)) {
    check(NAME.test(type), `entities.${type}`, 'a type name of letters, digits, `_` or `.`', type);
    entities.set(type, resolveEntityType(type, raw, entityDefaults));
  }
  const heartbeatTtlMs = Math.round(heartbeatTTL * 1000);
  return Object.freeze({
    redis: options.redis,
    keyPrefix,
    enableCronManager,
    cronIntervalMs: cronInterval,
    processing,
    heartbeatTtlMs,
    heartbeatIntervalMs: Math.max(50, Math.floor(heartbeatTtlMs / 3)),
    enqueueTimeoutMs,
    maxPayloadBytes,
    podId: options.podId,
    startTimeoutMs,
    stopTimeoutMs,
    logger,
    metrics,
    durability,
    rebalance,
    entityDefaults,
    entities,
  });
}
