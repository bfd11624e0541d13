import { Queue } from 'groupmq';
import { Redis } from 'ioredis';
import { DoneListener, doneChannel } from '../../lib/done-channel';
import type { CounterJobData } from '../groupmq-counter-pod';
import type { ClientConfig, OpClient } from './op-client';
import { quietQuit } from '../../lib/quiet-quit';

/** groupmq: add the job to the entity's group, await the notice. */
export async function groupmqClient(config: ClientConfig, podId: string): Promise<OpClient> {
  const redis = new Redis(config.redisUrl, {
    connectionName: `${config.prefix}:groupmq:${podId}`,
    lazyConnect: true,
    maxRetriesPerRequest: null,
  });
  await redis.connect();
  const done = await DoneListener.open(
    config.redisUrl,
    doneChannel(config.prefix),
    `${config.prefix}:done-sub:${podId}`,
  );
  const queue = new Queue<CounterJobData>({
    redis,
    namespace: config.namespace,
    jobTimeoutMs: config.jobTimeoutMs,
    keepCompleted: 0,
  });
  return {
    run: async (entityId, op) => {
      const finished = done.wait(op);
      await queue.add({ groupId: entityId, data: { op } });
      await finished;
    },
    stats: () => ({}),
    close: async () => {
      await queue.close();
      done.close();
      await quietQuit(redis);
    },
  };
}
