import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { racyAdd } from '../../lib/counter';
import { quietQuit } from '../../lib/quiet-quit';
import { STOCK_APP_OPTIONS, stockKey, type StockAppOptions } from './stock-options';

/** The products' stock in Redis, read and written back with no lock: racy on purpose. */
@Injectable()
export class StockStore implements OnApplicationShutdown {
  private readonly redis: Redis;

  constructor(@Inject(STOCK_APP_OPTIONS) private readonly options: StockAppOptions) {
    this.redis = new Redis(options.redisUrl, {
      connectionName: `${options.keyPrefix}:store:${options.podId}`,
    });
  }

  /** Read → (simulated I/O) → write back minus one. */
  deduct(productId: string): Promise<number> {
    const { keyPrefix, ioMs } = this.options;
    return racyAdd(this.redis, stockKey(keyPrefix, productId), -1, ioMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await quietQuit(this.redis);
  }
}
