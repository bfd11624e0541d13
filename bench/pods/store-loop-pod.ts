/**
 * A process of `npm run bench -- seed-floor`: the published handler's store work alone (read a
 * product's stock, write it back minus one, as bench/pods/stock-app does) on the products it is
 * given, each product's deductions one after another, all its products at once, with no queue.
 */
import { Redis } from 'ioredis';
import { racyAdd } from '../lib/counter';
import { reportError, runPod } from '../lib/pod-child';
import { quietQuit } from '../lib/quiet-quit';
import { stockKey } from './stock-app/stock-options';

export interface StoreLoopConfig {
  redisUrl: string;
  keyPrefix: string;
  podId: string;
  productIds: string[];
  /** Deductions per product. */
  perProduct: number;
}

runPod<StoreLoopConfig>((config, counter, errors) => {
  // One client per process, as the stock app's store has.
  const redis = new Redis(config.redisUrl, {
    connectionName: `${config.keyPrefix}:store:${config.podId}`,
  });
  let stopping = false;
  const deduct = async (productId: string): Promise<void> => {
    const key = stockKey(config.keyPrefix, productId);
    for (let i = 0; i < config.perProduct && !stopping; i++) {
      await racyAdd(redis, key, -1, 0);
      counter.completed();
    }
  };
  return {
    start: async () => {
      await redis.ping();
      for (const id of config.productIds)
        deduct(id).catch((err: unknown) => reportError(errors, err, `deducting ${id}`));
    },
    stop: async () => {
      stopping = true;
      await quietQuit(redis);
    },
  };
});
