import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { seedClaimKey, seedQueueName, seedSpawnChannel } from './keys';

export interface SeedWorkerManagerOptions {
  /** The pod's connection (`maxRetriesPerRequest: null`); each Worker gets a duplicate of it. */
  connection: Redis;
  /** A connection for the spawn channel (subscriber mode). */
  subscriber: Redis;
  prefix: string;
  podId: string;
  /** Runs one job of an entity. */
  process(entityId: string, job: Job): Promise<unknown>;
  onCompleted(entityId: string, job: Job): void;
  onError(err: unknown, context: string): void;
  /** Close a worker that ran nothing for this long. */
  idleTimeoutMs: number;
  /** @defaultValue 1500 (atomic-queues 1.x's heartbeat) */
  heartbeatMs?: number;
  /** @defaultValue 3000 (atomic-queues 1.x's `heartbeatTTL: 3`) */
  claimTtlMs?: number;
  /** @defaultValue 1000 (atomic-queues 1.x's `stalledInterval`) */
  stalledIntervalMs?: number;
}

interface EntityWorker {
  worker: Worker;
  connection: Redis;
  lastActiveAt: number;
}

/**
 * The pod side of the atomic-queues 1.x baseline: one BullMQ Worker (concurrency 1) per entity this pod claimed,
 * each on its own duplicated connection, kept alive by a pipelined heartbeat and closed when idle.
 * See bench/baselines/README.md.
 */
export class SeedWorkerManager {
  private readonly workers = new Map<string, EntityWorker>();
  private readonly claiming = new Set<string>();
  private timer?: NodeJS.Timeout;
  private stopping = false;
  /** Workers created / closed on idle, for the report. */
  readonly stats = { workerCreates: 0, idleClosures: 0 };

  constructor(private readonly opts: SeedWorkerManagerOptions) {}

  get heartbeatMs(): number {
    return this.opts.heartbeatMs ?? 1500;
  }

  get claimTtlMs(): number {
    return this.opts.claimTtlMs ?? 3000;
  }

  activeWorkers(): number {
    return this.workers.size;
  }

  async start(): Promise<void> {
    const { subscriber, prefix } = this.opts;
    subscriber.on('message', (_channel: string, entityId: string) => {
      this.spawn(entityId).catch((err: unknown) =>
        this.opts.onError(err, `spawning the worker of ${entityId}`),
      );
    });
    await subscriber.subscribe(seedSpawnChannel(prefix));
    this.timer = setInterval(() => {
      this.heartbeat().catch((err: unknown) => this.opts.onError(err, 'heartbeat'));
    }, this.heartbeatMs);
  }

  /** Claims the entity with `SET NX`; the pod that wins creates its Worker. */
  async spawn(entityId: string): Promise<void> {
    if (this.stopping || this.workers.has(entityId) || this.claiming.has(entityId)) return;
    this.claiming.add(entityId);
    try {
      const { connection, prefix, podId } = this.opts;
      const won = await connection.set(
        seedClaimKey(prefix, entityId),
        podId,
        'PX',
        this.claimTtlMs,
        'NX',
      );
      if (won !== 'OK' || this.stopping) return;
      this.createWorker(entityId);
    } finally {
      this.claiming.delete(entityId);
    }
  }

  private createWorker(entityId: string): void {
    const connection = this.opts.connection.duplicate();
    const entry: EntityWorker = {
      worker: undefined as never,
      connection,
      lastActiveAt: Date.now(),
    };
    const worker = new Worker(seedQueueName(entityId), (job) => this.opts.process(entityId, job), {
      connection,
      prefix: this.opts.prefix,
      concurrency: 1,
      stalledInterval: this.opts.stalledIntervalMs ?? 1000,
    });
    entry.worker = worker;
    worker.on('active', () => (entry.lastActiveAt = Date.now()));
    worker.on('completed', (job) => {
      entry.lastActiveAt = Date.now();
      this.opts.onCompleted(entityId, job);
    });
    worker.on('failed', (_job, err) => this.opts.onError(err, `job of ${entityId} failed`));
    worker.on('error', (err) => this.opts.onError(err, `worker of ${entityId}`));
    this.workers.set(entityId, entry);
    this.stats.workerCreates += 1;
  }

  /** Renews every claim in one pipeline, and closes the workers idle for too long. */
  private async heartbeat(): Promise<void> {
    const { connection, prefix, idleTimeoutMs } = this.opts;
    const now = Date.now();
    const pipeline = connection.pipeline();
    const idle: string[] = [];
    for (const [entityId, w] of this.workers) {
      if (now - w.lastActiveAt > idleTimeoutMs) idle.push(entityId);
      else pipeline.pexpire(seedClaimKey(prefix, entityId), this.claimTtlMs);
    }
    if (pipeline.length > 0) await pipeline.exec();
    await Promise.all(idle.map((entityId) => this.close(entityId, true)));
  }

  private async close(entityId: string, idle: boolean): Promise<void> {
    const w = this.workers.get(entityId);
    if (!w) return;
    this.workers.delete(entityId);
    await w.worker.close();
    w.connection.disconnect();
    await this.opts.connection.del(seedClaimKey(this.opts.prefix, entityId));
    if (idle) this.stats.idleClosures += 1;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await Promise.all([...this.workers.keys()].map((entityId) => this.close(entityId, false)));
  }
}
