/**
 * Without CqrsModule (and without any CQRS handler) the module works on its own: processors
 * route jobs, and @JobCommand classes reach an explicit @JobHandler by their registered name.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from 'bullmq';
import {
  JobCommand,
  JobHandler,
  QueueBus,
  QueueEntity,
  QueueEntityId,
  WorkerProcessor,
} from '../../src';
import { startApp, type TestApp } from './nest-testing';

@QueueEntity('counter')
@JobCommand('counter.add')
class AddCommand {
  constructor(
    @QueueEntityId() public readonly counterId: string,
    public readonly by: number,
  ) {}
}

const totals = new Map<string, number>();

@WorkerProcessor({ entityType: 'counter' })
class CounterProcessor {
  @JobHandler('counter.add')
  add(job: Job<AddCommand>, counterId: string) {
    const total = (totals.get(counterId) ?? 0) + job.data.by;
    totals.set(counterId, total);
    return total;
  }
}

describe('without @nestjs/cqrs', () => {
  let t: TestApp;
  before(async () => {
    t = await startApp('without-cqrs', { providers: [CounterProcessor] });
  });
  after(() => t.close());

  it('routes commands to the processor by their registered name', async () => {
    const bus = t.get(QueueBus);
    await bus.enqueue(new AddCommand('c', 2));
    assert.equal(await bus.enqueueAndWait(new AddCommand('c', 3), { timeoutMs: 5000 }), 5);
  });
});
