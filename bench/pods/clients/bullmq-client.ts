import { Queue } from 'bullmq';
import { DoneListener, doneChannel } from '../../lib/done-channel';
import type { RawJobData } from '../bullmq-counter-pod';
import type { ClientConfig, OpClient } from './op-client';

/** Raw BullMQ: add the job to the one shared queue, await the notice. */
export async function bullmqClient(config: ClientConfig, podId: string): Promise<OpClient> {
  const queue = new Queue<RawJobData>(config.queueName, {
    connection: { url: config.redisUrl, connectionName: `${config.prefix}:queue:${podId}` },
    prefix: config.prefix,
  });
  await queue.waitUntilReady();
  const done = await DoneListener.open(
    config.redisUrl,
    doneChannel(config.prefix),
    `${config.prefix}:done-sub:${podId}`,
  );
  return {
    run: async (entityId, op) => {
      const finished = done.wait(op);
      await queue.add('op', { op, entityId }, { removeOnComplete: config.removeOnComplete });
      await finished;
    },
    stats: () => ({}),
    close: async () => {
      await queue.close();
      done.close();
    },
  };
}
