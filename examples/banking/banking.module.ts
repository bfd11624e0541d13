import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TerminusModule } from '@nestjs/terminus';
// In an application: `from 'atomic-queues'`.
import { AtomicQueuesModule, QueueBus } from '../../src';
import { AccountController } from './account.controller';
import { AccountRepository } from './account.repository';
import { BANKING_OPTIONS, type BankingOptions } from './banking-options';
import { DirectQueueBus } from './direct-queue-bus';
import { FaultInjector } from './fault-injector';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { DepositHandler } from './handlers/deposit.handler';
import { TransferHandler } from './handlers/transfer.handler';
import { WithdrawHandler } from './handlers/withdraw.handler';
import { PodController } from './pod.controller';
import { TransferOutboxRelay } from './transfer-outbox.relay';

/**
 * The Complete Example of the atomic-queues 1.x README as a Nest module: withdraw, deposit and transfer commands routed
 * to their `@CommandHandler`s through per-account queues.
 *
 * `withoutLibrary: true` builds the same app with the library taken out: QueueBus is replaced by
 * DirectQueueBus, which runs each command at once, concurrently (the demo's baseline).
 */
@Module({})
export class BankingModule {
  static forRoot(options: BankingOptions): DynamicModule {
    const queues: Pick<DynamicModule, 'imports' | 'providers'> = options.withoutLibrary
      ? { imports: [], providers: [{ provide: QueueBus, useClass: DirectQueueBus }] }
      : {
          imports: [
            AtomicQueuesModule.forRoot({
              redis: options.redisUrl,
              keyPrefix: options.keyPrefix,
              workerDefaults: { heartbeatTTL: options.heartbeatTTL },
              // atomic_queues_* metrics in prom-client's default registry, served on GET /metrics.
              metrics: true,
              entities: {
                account: {
                  queueName: (id) => `account-${id}-queue`,
                  workerName: (id) => `account-${id}-worker`,
                  maxWorkersPerEntity: 1,
                  idleTimeoutSeconds: 15,
                },
              },
            }),
            TerminusModule,
          ],
          providers: [],
        };
    // GET /health (Terminus with AtomicQueuesHealthIndicator) and GET /metrics (prom-client).
    const operations = options.withoutLibrary ? [] : [HealthController, MetricsController];
    const providers: Provider[] = [
      { provide: BANKING_OPTIONS, useValue: options },
      AccountRepository,
      FaultInjector,
      WithdrawHandler,
      DepositHandler,
      TransferHandler,
      TransferOutboxRelay,
    ];
    return {
      module: BankingModule,
      imports: [CqrsModule.forRoot(), ...(queues.imports ?? [])],
      controllers: [AccountController, PodController, ...operations],
      providers: [...providers, ...(queues.providers ?? [])],
    };
  }
}
