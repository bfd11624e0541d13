// A NestJS app as a user writes one: the module given the app's own ioredis client, a
// @QueueEntity command with its handler, and an enqueueAndWait round trip. No @nestjs/cqrs:
// it is an optional peer dependency.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Job } from 'bullmq';
import {
  AtomicQueuesModule,
  JobCommand,
  JobHandler,
  QueueBus,
  QueueEntity,
  QueueEntityId,
  WorkerProcessor,
} from 'atomic-queues';
import { appRedis, connectionNames, environment, report, run } from './environment';

const { redisUrl, keyPrefix } = environment();
const redis = appRedis(redisUrl, keyPrefix);

@QueueEntity('counter')
@JobCommand('counter.add')
export class AddCommand {
  constructor(
    @QueueEntityId() public readonly counterId: string,
    public readonly by: number,
  ) {}
}

@WorkerProcessor({ entityType: 'counter' })
export class CounterProcessor {
  private readonly totals = new Map<string, number>();

  @JobHandler('counter.add')
  add(job: Job<AddCommand>, counterId: string): number {
    const total = (this.totals.get(counterId) ?? 0) + job.data.by;
    this.totals.set(counterId, total);
    return total;
  }
}

@Module({
  imports: [AtomicQueuesModule.forRoot({ redis, keyPrefix })],
  providers: [CounterProcessor],
})
export class AppModule {}

run(async () => {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  const bus = app.get(QueueBus);
  const results = [
    await bus.enqueueAndWait(new AddCommand('c1', 2), { timeoutMs: 10_000 }),
    await bus.enqueueAndWait(new AddCommand('c1', 3), { timeoutMs: 10_000 }),
  ];
  const connections = await connectionNames(redis, keyPrefix);
  await app.close();
  await redis.quit();
  report({ results, connections });
});
