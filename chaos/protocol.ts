import type { EntityTypeOptions } from '../src';

/** What a chaos pod process is started with (JSON in argv[2]). */
export interface ChaosPodConfig {
  podId: string;
  redisUrl: string;
  /** On a Cluster: its nodes (then `redisUrl` is one of them). */
  clusterNodes?: Array<{ host: string; port: number }>;
  prefix: string;
  /** The oracle's SQLite file. */
  db: string;
  heartbeatTTL: number;
  cronInterval: number;
  /** The safety sweep (takeover of dead pods' entities); off to test wake-ups alone. */
  sweep: boolean;
  enqueueTimeoutMs: number;
  entities: Record<string, Omit<EntityTypeOptions, 'queueName' | 'workerName'>>;
  /** False only in the control run: the store ignores fencing tokens. */
  fenced: boolean;
  /** The pod exits by itself after this long, whatever happens to its parent. */
  maxLifetimeMs: number;
}

/** The payload of every chaos job: one order against one product (the entity). */
export interface OrderJob {
  /** Business id (also the BullMQ job id). */
  b: string;
  /** Entity id (the product). */
  e: string;
  /** Position of the job in its entity's enqueue order. */
  seq: number;
  /** Units to deduct. */
  qty: number;
  /** Time the handler spends between reading and writing the stock (async, ms). */
  ms: number;
  /** A job that always throws, or that exits its process. */
  poison?: 'throw' | 'exit';
  /** On its first execution only: block the event loop this long (busy loop) before writing. */
  block?: number;
  /** Throw on attempts 1..failTimes, then succeed. */
  failTimes?: number;
}

export type PodMessage = {
  type: 'ready';
  podId: string;
  pid: number;
  /** How far the pod's Date.now() was from Redis's TIME at start (+ when fast), ms. */
  clockSkewMs: number;
};
