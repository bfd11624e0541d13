import { Queue, type KeepJobs } from 'bullmq';
import { AtomicEngine } from '../../src';
import { BENCH_CLIENT_PREFIX } from './redis-probe';

export interface PrefillResult {
  jobs: number;
  ms: number;
}

/** Fills one plain BullMQ queue with `jobs` no-op jobs through `queue.addBulk`, `chunk` at a time. */
export async function prefillBullmq(opts: {
  redisUrl: string;
  prefix: string;
  queueName: string;
  jobs: number;
  chunk: number;
  removeOnComplete: KeepJobs;
}): Promise<PrefillResult> {
  const queue = new Queue(opts.queueName, {
    connection: { url: opts.redisUrl, connectionName: `${BENCH_CLIENT_PREFIX}producer` },
    prefix: opts.prefix,
  });
  // Connection errors also reject the addBulk call in flight, which is what reports them.
  queue.on('error', () => undefined);
  const started = Date.now();
  try {
    for (let from = 0; from < opts.jobs; from += opts.chunk) {
      const size = Math.min(opts.chunk, opts.jobs - from);
      await queue.addBulk(
        Array.from({ length: size }, (_, k) => ({
          name: 'noop',
          data: { i: from + k },
          opts: { removeOnComplete: opts.removeOnComplete },
        })),
      );
    }
    return { jobs: opts.jobs, ms: Date.now() - started };
  } finally {
    await queue.close();
  }
}

/**
 * Fills entity queues through a producer-only engine (`processing: false`) with `enqueueBulk`,
 * `chunk` jobs a call, round-robin over the entities (job k of every entity before job k + 1),
 * then stops it: the entities are left free with work, offered in the spawn set.
 */
export async function prefillEngine(opts: {
  redisUrl: string;
  keyPrefix: string;
  entityType: string;
  entityIds: string[];
  jobsPerEntity: number;
  chunk: number;
}): Promise<PrefillResult> {
  const engine = new AtomicEngine({
    redis: opts.redisUrl,
    keyPrefix: opts.keyPrefix,
    podId: 'bench_producer',
    processing: false,
    entities: { [opts.entityType]: {} },
  });
  const errors: string[] = [];
  engine.on('error', (err: Error, context: string) => errors.push(`${context}: ${err.message}`));
  await engine.start();
  const started = Date.now();
  const total = opts.entityIds.length * opts.jobsPerEntity;
  try {
    for (let from = 0; from < total; from += opts.chunk) {
      const size = Math.min(opts.chunk, total - from);
      await engine.enqueueBulk(
        Array.from({ length: size }, (_, k) => {
          const n = from + k;
          return {
            type: opts.entityType,
            entityId: opts.entityIds[n % opts.entityIds.length],
            name: 'noop',
            data: { i: n },
          };
        }),
      );
    }
    if (errors.length > 0) throw new Error(`The producer engine reported: ${errors.join('; ')}`);
    return { jobs: total, ms: Date.now() - started };
  } finally {
    await engine.stop();
  }
}
