import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AtomicQueuesModule } from 'atomic-queues';
import { AccountService, DepositHandler, WithdrawHandler } from './handlers';
import { AccountRepository } from './repository';

@Module({
  imports: [
    CqrsModule,
    AtomicQueuesModule.forRoot({
      redis: { host: 'localhost', port: 6379 },
      keyPrefix: 'myapp',
      entities: {
        account: {
          queueName: (id) => `account-${id}-queue`,
          workerName: (id) => `account-${id}-worker`,
          maxWorkersPerEntity: 1,
          idleTimeoutSeconds: 15,
        },
      },
    }),
  ],
  providers: [AccountRepository, WithdrawHandler, DepositHandler, AccountService],
})
export class AppModule {}
