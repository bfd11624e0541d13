import { Redis } from 'ioredis';
import { SeedProducer } from '../../baselines/seed/producer';
import { DoneListener, doneChannel } from '../../lib/done-channel';
import type { ClientConfig, OpClient } from './op-client';
import { quietQuit } from '../../lib/quiet-quit';

/** Seed baseline: add to the entity's queue (spawning its worker if needed), await the notice. */
export async function seedClient(config: ClientConfig, podId: string): Promise<OpClient> {
  const connection = new Redis(config.redisUrl, {
    connectionName: `${config.prefix}:seed:${podId}`,
    lazyConnect: true,
  });
  await connection.connect();
  const done = await DoneListener.open(
    config.redisUrl,
    doneChannel(config.prefix),
    `${config.prefix}:done-sub:${podId}`,
  );
  const producer = new SeedProducer(
    connection,
    config.prefix,
    config.removeOnComplete,
    config.aliveCacheMs,
  );
  return {
    run: async (entityId, op) => {
      const finished = done.wait(op);
      await producer.add(entityId, 'op', { op });
      await finished;
    },
    stats: () => ({ ...producer.stats }),
    close: async () => {
      await producer.close();
      done.close();
      await quietQuit(connection);
    },
  };
}
