/**
 * The driver side of one approach in `npm run bench -- compare`: how an application would issue
 * one operation on an entity and learn that it is done.
 */
export interface OpClient {
  /** Issues operation `op` on `entityId`; resolves once it has run. */
  run(entityId: string, op: string): Promise<void>;
  /** Counters for the report (acquire failures, spawn requests, ...). */
  stats(): Record<string, number>;
  close(): Promise<void>;
}

export const APPROACHES = [
  'atomic-queues',
  'seed-baseline',
  'redlock',
  'redlock-tuned',
  'groupmq',
  'raw-bullmq',
] as const;
export type Approach = (typeof APPROACHES)[number];

/** Redlock settings of one approach (the package's defaults are recorded in `params`). */
export interface RedlockSettings {
  retryCount?: number;
  retryDelay?: number;
  retryJitter?: number;
}

/** What the wave driver needs to build the client of its approach. */
export interface ClientConfig {
  approach: Approach;
  redisUrl: string;
  /** Key prefix of the run (counters, done channel, BullMQ prefix, engine keyPrefix). */
  prefix: string;
  /** atomic-queues: entity type, the enqueueAndWait timeout, the engine's enqueue timeout. */
  entityType: string;
  waitTimeoutMs: number;
  enqueueTimeoutMs: number;
  /** groupmq namespace. */
  namespace: string;
  jobTimeoutMs: number;
  /** raw BullMQ: the one queue. */
  queueName: string;
  removeOnComplete: { count: number };
  /** Redlock: lock TTL, settings (`{}` = the package's defaults), simulated I/O. */
  lockTtlMs: number;
  redlock: RedlockSettings;
  ioMs: number;
  /** Seed baseline: how long a worker seen alive is trusted without a Redis call. */
  aliveCacheMs: number;
}
