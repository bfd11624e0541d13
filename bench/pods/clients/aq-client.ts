import { AtomicEngine } from '../../../src';
import type { ClientConfig, OpClient } from './op-client';

/** atomic-queues: a producer-only engine; `enqueueAndWait` returns when the handler has run. */
export async function aqClient(config: ClientConfig, podId: string): Promise<OpClient> {
  const engine = new AtomicEngine({
    redis: config.redisUrl,
    keyPrefix: config.prefix,
    podId,
    processing: false,
    enqueueTimeoutMs: config.enqueueTimeoutMs,
    entities: { [config.entityType]: {} },
  });
  await engine.start();
  return {
    run: async (entityId, op) => {
      await engine.enqueueAndWait(
        config.entityType,
        entityId,
        'op',
        { op },
        { timeoutMs: config.waitTimeoutMs },
      );
    },
    stats: () => {
      const { podId: _podId, ...counters } = engine.getStats();
      return counters;
    },
    close: () => engine.stop(),
  };
}
