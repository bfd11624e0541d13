import { type DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AtomicQueuesModule } from '../../../src';
import { DeductStockHandler } from './deduct-stock.handler';
import { STOCK_APP_OPTIONS, type StockAppOptions } from './stock-options';
import { StockStore } from './stock.store';

/**
 * The `bench seed` app: `product` entities whose `DeductStockCommand`s run through
 * `@CommandHandler`s. `pod` processes them; `driver` only sends them (`processing: false`).
 */
@Module({})
export class StockAppModule {
  static pod(options: StockAppOptions): DynamicModule {
    return {
      module: StockAppModule,
      imports: [
        CqrsModule.forRoot(),
        AtomicQueuesModule.forRoot({
          redis: options.redisUrl,
          keyPrefix: options.keyPrefix,
          podId: options.podId,
          workerDefaults: { heartbeatTTL: options.heartbeatTTL },
          entities: { product: { idleTimeoutSeconds: options.idleTimeoutSeconds } },
        }),
      ],
      providers: [
        { provide: STOCK_APP_OPTIONS, useValue: options },
        StockStore,
        DeductStockHandler,
      ],
    };
  }

  static driver(options: StockAppOptions): DynamicModule {
    return {
      module: StockAppModule,
      imports: [
        AtomicQueuesModule.forRoot({
          redis: options.redisUrl,
          keyPrefix: options.keyPrefix,
          podId: options.podId,
          processing: false,
          enqueueTimeoutMs: options.enqueueTimeoutMs,
          entities: { product: {} },
        }),
      ],
    };
  }
}
