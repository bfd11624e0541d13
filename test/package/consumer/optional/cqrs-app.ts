// The README's way, with the optional @nestjs/cqrs: a @QueueEntity command handled by a
// @CommandHandler. pack-and-consume.test.ts adds this file to the apps that install
// @nestjs/cqrs; the others show the package works without it.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { CommandHandler, CqrsModule, type ICommandHandler } from '@nestjs/cqrs';
import { AtomicQueuesModule, QueueEntity, QueueEntityId } from 'atomic-queues';
import { appRedis, environment, roundTrip } from './environment';

const { redisUrl, keyPrefix } = environment();
const redis = appRedis(redisUrl, keyPrefix);

@QueueEntity('account')
export class DepositCommand {
  constructor(
    @QueueEntityId() public readonly accountId: string,
    public readonly amount: number,
  ) {}
}

@CommandHandler(DepositCommand)
export class DepositHandler implements ICommandHandler<DepositCommand> {
  private readonly balances = new Map<string, number>();

  execute({ accountId, amount }: DepositCommand): Promise<number> {
    const balance = (this.balances.get(accountId) ?? 0) + amount;
    this.balances.set(accountId, balance);
    return Promise.resolve(balance);
  }
}

@Module({
  imports: [CqrsModule, AtomicQueuesModule.forRoot({ redis, keyPrefix })],
  providers: [DepositHandler],
})
export class AppModule {}

roundTrip(AppModule, redis, [new DepositCommand('a1', 2), new DepositCommand('a1', 3)]);
