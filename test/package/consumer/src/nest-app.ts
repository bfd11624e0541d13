// A NestJS app as a user writes one: the module given the app's own ioredis client, a
// @QueueEntity command with its handler, and an enqueueAndWait round trip. No @nestjs/cqrs:
// it is an optional peer dependency.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import type { Job } from 'bullmq';
import {
  AtomicQueuesModule,
  JobCommand,
  JobHandler,
  QueueEntity,
  QueueEntityId,
  WorkerProcessor,
} from 'atomic-queues';
import { appRedis, environment, roundTrip } from './environment';

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

roundTrip(AppModule, redis, [new AddCommand('c1', 2), new AddCommand('c1', 3)]);
