import { Redis } from 'ioredis';
import Redlock, { ExecutionError } from 'redlock';
import { counterKey, racyIncrement } from '../../lib/counter';
import type { ClientConfig, OpClient } from './op-client';
import { quietQuit } from '../../lib/quiet-quit';

export function lockKey(prefix: string, entityId: string): string {
  return `${prefix}:lock:${entityId}`;
}

/**
 * Redlock (npm `redlock` v5, one Redis): the caller runs the operation itself, inside
 * acquire → read → I/O → write → release. An acquire that exhausts its retries (ExecutionError)
 * is counted and started again, as an application retrying the request would.
 */
export async function redlockClient(config: ClientConfig, podId: string): Promise<OpClient> {
  const redis = new Redis(config.redisUrl, {
    connectionName: `${config.prefix}:redlock:${podId}`,
    lazyConnect: true,
  });
  await redis.connect();
  const redlock = new Redlock([redis], config.redlock);
  const stats = { acquireFailures: 0, acquireAttempts: 0, releaseErrors: 0 };
  return {
    run: async (entityId, _op) => {
      for (;;) {
        try {
          const lock = await redlock.acquire([lockKey(config.prefix, entityId)], config.lockTtlMs);
          stats.acquireAttempts += lock.attempts.length;
          try {
            await racyIncrement(redis, counterKey(config.prefix, entityId), config.ioMs);
          } finally {
            await lock.release().catch(() => (stats.releaseErrors += 1));
          }
          return;
        } catch (err) {
          if (!(err instanceof ExecutionError)) throw err;
          stats.acquireFailures += 1;
          stats.acquireAttempts += err.attempts.length;
        }
      }
    },
    stats: () => ({ ...stats }),
    close: async () => {
      await quietQuit(redis);
    },
  };
}
