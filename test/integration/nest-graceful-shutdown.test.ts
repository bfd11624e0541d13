/**
 * app.close() (what enableShutdownHooks runs on SIGTERM) lets the running job finish, releases
 * the entity's lease and leaves no job active for stall detection; later jobs wait in Redis.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Job } from 'bullmq';
import { AtomicEngine, JobHandler, QueueBus, WorkerProcessor } from '../../src';
import { KeyBuilder } from '../../src/redis/keys';
import { newRedis, redisUrl } from '../helpers/redis';
import { waitFor } from '../../support/async';
import { engineOf, gate, startApp } from './nest-testing';

const started = gate();
const release = gate();
const events: string[] = [];

@WorkerProcessor({ entityType: 'report' })
class ReportProcessor {
  @JobHandler('render')
  async render(job: Job) {
    events.push(`start ${String((job.data as { n: number }).n)}`);
    started.open();
    await release.promise;
    events.push(`end ${String((job.data as { n: number }).n)}`);
    return 'done';
  }
}

describe('graceful shutdown', () => {
  const redis = newRedis();
  after(() => redis.quit());

  it('finishes the running job, releases the lease, leaves the next job waiting', async () => {
    const t = await startApp('graceful-shutdown', { providers: [ReportProcessor] });
    const inspector = new AtomicEngine({
      redis: redisUrl(),
      keyPrefix: t.prefix,
      processing: false,
      entities: { report: {} },
    });
    try {
      const target = t.get(QueueBus).forProcessor(ReportProcessor);
      await target.enqueue('render', 'r-1', { n: 1 });
      await target.enqueue('render', 'r-1', { n: 2 });
      await started.promise;

      const engine = engineOf(t);
      const closing = t.app.close().then(() => events.push('closed'));
      await waitFor(() => !engine.isStarted(), { message: 'the engine is stopping' });
      assert.deepEqual(events, ['start 1'], 'close waits for the running job');
      release.open();
      await closing;
      assert.deepEqual(events, ['start 1', 'end 1', 'closed']);

      const keys = new KeyBuilder(t.prefix);
      assert.equal(
        await redis.exists(keys.entityKeys(keys.defaultQueueName('report', 'r-1')).lease),
        0,
      );
      await inspector.start();
      const backlog = await inspector.getBacklog('report', 'r-1');
      assert.equal(backlog.completed, 1);
      assert.equal(backlog.active, 0, 'nothing left for stall detection');
      assert.equal(backlog.waiting, 1, 'the next job waits for another pod');
    } finally {
      await inspector.stop();
      await t.close();
    }
  });
});
