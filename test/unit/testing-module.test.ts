/**
 * AtomicQueuesTestingModule in Test.createTestingModule, no Redis: forRoot and forRootAsync take
 * AtomicQueuesModule's options (redis and metrics included); the engine behind `AtomicEngine` is
 * the InMemoryEngine the test injects; @WorkerProcessor handlers run with their job context; the
 * services (QueueBus, WorkerManagerService's failed-job calls) reach the in-memory engine.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable, type DynamicModule } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Job } from 'bullmq';
import {
  AtomicEngine,
  JobHandler,
  QueueBus,
  WorkerManagerService,
  WorkerProcessor,
  currentJobContext,
} from '../../src';
import { AtomicQueuesTestingModule, InMemoryEngine, ManualClock } from '../../src/testing';

@WorkerProcessor({ entityType: 'account' })
@Injectable()
class AccountProcessor {
  @JobHandler('audit')
  audit(job: Job, entityId: string): { audited: string; fence?: number } {
    if ((job.data as { fail?: boolean }).fail) throw new Error('audit refused');
    return { audited: entityId, fence: currentJobContext()?.fencingToken };
  }
}

async function boot(module: DynamicModule) {
  const moduleRef = await Test.createTestingModule({
    imports: [module],
    providers: [AccountProcessor],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('AtomicQueuesTestingModule', () => {
  it("forRoot: the app's options as they are; handlers run through QueueBus", async (t) => {
    const clock = new ManualClock(5_000);
    const moduleRef = await boot(
      AtomicQueuesTestingModule.forRoot({
        redis: 'redis://never-connected:6379',
        keyPrefix: 'app',
        metrics: true,
        logger: false,
        clock,
        entities: { account: { attempts: 1 } },
      }),
    );
    t.after(() => moduleRef.close());
    const engine = moduleRef.get(InMemoryEngine);
    assert.equal(moduleRef.get(AtomicEngine), engine, 'one engine behind both tokens');
    assert.equal(engine.clock, clock);
    const bus = moduleRef.get(QueueBus);
    assert.deepEqual(await bus.forEntity('account', 'a1').enqueueAndWait('audit', {}), {
      audited: 'a1',
      fence: 1,
    });
    await bus.forEntity('account', 'a1').enqueue('audit', { fail: true }, { jobId: 'bad' });
    await engine.drain();
    const failed = await moduleRef.get(WorkerManagerService).listFailedJobs('account', 'a1');
    assert.deepEqual(
      failed.items.map((j) => [j.id, j.failedReason, j.attemptsMade]),
      [['bad', 'audit refused', 1]],
    );
    assert.deepEqual(
      engine.runs('account', 'a1').map((r) => [r.name, r.status]),
      [
        ['audit', 'completed'],
        ['audit', 'failed'],
      ],
    );
    assert.equal((await engine.health()).status, 'up');
  });

  it('forRootAsync: options from a factory', async (t) => {
    const moduleRef = await boot(
      AtomicQueuesTestingModule.forRootAsync({
        useFactory: () => Promise.resolve({ redis: 'redis://unused', logger: false }),
      }),
    );
    t.after(() => moduleRef.close());
    const engine = moduleRef.get(InMemoryEngine);
    assert.ok(engine.isStarted());
    assert.deepEqual(engine.entityTypes(), ['account'], 'declared by the @WorkerProcessor');
    assert.deepEqual(
      await moduleRef.get(QueueBus).forEntity('account', 'b2').enqueueAndWait('audit', {}),
      { audited: 'b2', fence: 1 },
    );
  });

  it('stops the engine when the module closes', async () => {
    const moduleRef = await boot(AtomicQueuesTestingModule.forRoot({ logger: false }));
    const engine = moduleRef.get(InMemoryEngine);
    await moduleRef.close();
    assert.equal(engine.isStarted(), false);
  });
});
