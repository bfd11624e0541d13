import { Queue, type KeepJobs } from 'bullmq';
import type { Redis } from 'ioredis';
import { seedClaimKey, seedQueueName, seedSpawnChannel } from './keys';

/**
 * The enqueue side of the atomic-queues 1.x baseline: one BullMQ Queue per entity (all on one shared
 * connection), and atomic-queues 1.x's worker-existence check: an entity whose worker was seen alive less
 * than `aliveCacheMs` ago costs no Redis call; otherwise one `EXISTS` on its claim, and a spawn
 * request when there is none. See bench/baselines/README.md.
 */
export class SeedProducer {
  private readonly queues = new Map<string, Queue>();
  private readonly aliveUntil = new Map<string, number>();
  private readonly checking = new Map<string, Promise<void>>();
  readonly stats = { existenceChecks: 0, spawnRequests: 0 };

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
    private readonly removeOnComplete: KeepJobs,
    private readonly aliveCacheMs = 1500,
  ) {}

  async add(entityId: string, name: string, data: unknown): Promise<void> {
    await this.queue(entityId).add(name, data, { removeOnComplete: this.removeOnComplete });
    await this.ensureWorker(entityId);
  }

  private queue(entityId: string): Queue {
    let queue = this.queues.get(entityId);
    if (!queue) {
      queue = new Queue(seedQueueName(entityId), {
        connection: this.connection,
        prefix: this.prefix,
      });
      this.queues.set(entityId, queue);
    }
    return queue;
  }

  private ensureWorker(entityId: string): Promise<void> {
    if ((this.aliveUntil.get(entityId) ?? 0) > Date.now()) return Promise.resolve();
    let check = this.checking.get(entityId);
    if (!check) {
      check = this.check(entityId).finally(() => this.checking.delete(entityId));
      this.checking.set(entityId, check);
    }
    return check;
  }

  private async check(entityId: string): Promise<void> {
    this.stats.existenceChecks += 1;
    const alive = await this.connection.exists(seedClaimKey(this.prefix, entityId));
    if (!alive) {
      this.stats.spawnRequests += 1;
      await this.connection.publish(seedSpawnChannel(this.prefix), entityId);
    }
    this.aliveUntil.set(entityId, Date.now() + this.aliveCacheMs);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
