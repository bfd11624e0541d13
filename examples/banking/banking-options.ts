/** Settings of one banking pod; `fromEnv()` reads them from the environment the demo sets. */
export interface BankingOptions {
  /** Redis for the queues, e.g. `redis://127.0.0.1:6379`. Unused with `withoutLibrary`. */
  redisUrl: string;
  /** Namespace of every Redis key of the library. */
  keyPrefix: string;
  /** SQLite file shared by all pods. */
  storePath: string;
  /** Label of this pod in the ledger and the demo's table. */
  podName: string;
  /** Simulated store latency between a read and the write that follows it, in ms. */
  storeLatencyMs: number;
  /** Seconds a pod's lease on an account lives without renewal (the library's `heartbeatTTL`). */
  heartbeatTTL: number;
  /**
   * Run the handlers directly, concurrently, without queues: the same app with the library taken
   * out, to show the drift it prevents.
   */
  withoutLibrary: boolean;
  /** How often each pod looks for transfers debited but not yet credited, in ms (0: never). */
  outboxIntervalMs: number;
  /** Test hook: SIGKILL this process right after the debit of this transfer id is committed. */
  crashAfterDebitOf?: string;
}

export const BANKING_OPTIONS = Symbol('BANKING_OPTIONS');

export const BANKING_DEFAULTS = {
  keyPrefix: 'banking',
  podName: `pid-${process.pid}`,
  storeLatencyMs: 2,
  heartbeatTTL: 3,
  withoutLibrary: false,
  outboxIntervalMs: 1000,
} as const;

/** Options from `BANKING_*` variables (and `REDIS_URL`), as the demo launcher passes them. */
export function bankingOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): BankingOptions {
  const storePath = env.BANKING_STORE;
  if (!storePath) throw new Error('BANKING_STORE (path of the SQLite file) is not set');
  const withoutLibrary = env.BANKING_WITHOUT_LIBRARY === '1';
  const redisUrl = env.REDIS_URL ?? '';
  if (!withoutLibrary && !redisUrl) throw new Error('REDIS_URL is not set');
  return {
    redisUrl,
    storePath,
    withoutLibrary,
    keyPrefix: env.BANKING_KEY_PREFIX ?? BANKING_DEFAULTS.keyPrefix,
    podName: env.BANKING_POD ?? BANKING_DEFAULTS.podName,
    storeLatencyMs: numberFrom(env, 'BANKING_STORE_LATENCY_MS', BANKING_DEFAULTS.storeLatencyMs),
    heartbeatTTL: numberFrom(env, 'BANKING_HEARTBEAT_TTL', BANKING_DEFAULTS.heartbeatTTL),
    outboxIntervalMs: numberFrom(env, 'BANKING_OUTBOX_MS', BANKING_DEFAULTS.outboxIntervalMs),
    crashAfterDebitOf: env.BANKING_CRASH_AFTER_DEBIT || undefined,
  };
}

function numberFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`Expected ${name} to be a number ≥ 0, got \`${raw}\``);
  return value;
}
