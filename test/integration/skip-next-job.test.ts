/**
 * `skipNextJob` on a paused entity: the job at the head of its queue goes to failed without
 * running (reason `skipped`; a caller awaiting it gets a JobFailedError), and the entity stays
 * paused unless asked to resume. An entity that is not paused is refused, untouched.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from 'bullmq';
import {
  EntityNotPausedError,
  InvalidOptionsError,
  JobFailedError,
  type AtomicEngine,
  type JobContext,
} from '../../src';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';
import { queueKey } from '../fixtures/queue-state';

const TYPE = 'ledger';

describe('skipNextJob', () => {
  const { prefix, engines, redis } = integrationSuite('skipNextJob');
  const log: string[] = [];
  const failed: string[] = [];
  let worker: AtomicEngine;
  let producer: AtomicEngine;

  async function start(): Promise<void> {
    if (worker) return;
    worker = engines.create({
      podId: 'worker',
      entities: { [TYPE]: { onFailure: 'pause', idleTimeoutSeconds: 0.2 } },
    });
    worker.registerHandler(TYPE, (job: Job, ctx: JobContext) => {
      const label = (job.data as { label: string }).label;
      log.push(`${ctx.entityId} ${label}`);
      if (label === 'A') throw new Error('A failed');
      return label;
    });
    worker.on('job:failed', (e: { jobId: string }) => failed.push(e.jobId));
    await worker.start();
    producer = engines.create({ podId: 'producer', processing: false, entities: { [TYPE]: {} } });
    await producer.start();
  }

  const runsOf = (entity: string) =>
    log.filter((l) => l.startsWith(`${entity} `)).map((l) => l.slice(entity.length + 1));

  it(
    'skips the head, keeps the entity paused; with resume the rest runs; an awaiting caller hears',
    { timeout: 30_000 },
    async () => {
      await start();
      const [a, b] = await producer.enqueueBulk(
        ['A', 'B'].map((label) => ({ type: TYPE, entityId: 'l1', name: 'post', data: { label } })),
      );
      const awaited = producer
        .enqueueAndWait(TYPE, 'l1', 'post', { label: 'C' }, { jobId: 'c-1' })
        .then(
          () => 'resolved',
          (err: unknown) => err,
        );
      await waitFor(async () => (await redis.exists(queueKey(prefix, TYPE, 'l1', 'c-1'))) === 1, {
        message: 'C stored',
      });
      const d = await producer.enqueue(TYPE, 'l1', 'post', { label: 'D' });
      await waitFor(() => failed.includes(a), { message: 'A failed and paused the entity' });

      assert.deepEqual(await producer.skipNextJob(TYPE, 'l1'), { skipped: b, resumed: false });
      const [reason, finishedOn] = await redis.hmget(
        queueKey(prefix, TYPE, 'l1', b),
        'failedReason',
        'finishedOn',
      );
      assert.equal(reason, 'skipped');
      assert.ok(Number(finishedOn) > 0);
      assert.equal((await producer.getBacklog(TYPE, 'l1')).paused, true, 'still paused');
      const listed = await producer.listFailedJobs(TYPE, 'l1');
      assert.deepEqual(
        listed.items.map((j) => [j.id, j.failedReason, j.attemptsMade]),
        [
          [a, 'A failed', 1],
          [b, 'skipped', 0],
        ],
      );

      // From another pod than the caller awaiting C: the result travels on its reply channel.
      assert.deepEqual(await worker.skipNextJob(TYPE, 'l1', { resume: true }), {
        skipped: 'c-1',
        resumed: true,
      });
      const err = await awaited;
      assert.ok(err instanceof JobFailedError, `the caller got ${String(err)}`);
      assert.equal(err.message, 'skipped');
      await waitFor(() => runsOf('l1').includes('D'), { message: 'D ran after the resume' });
      assert.deepEqual(runsOf('l1'), ['A', 'D'], 'B and C never ran');
      assert.notEqual(await redis.zscore(queueKey(prefix, TYPE, 'l1', 'completed'), d), null);
    },
  );

  it('an entity that is not paused is refused; a paused one with nothing waiting skips nothing', async () => {
    await start();
    await producer.enqueueAndWait(TYPE, 'l2', 'post', { label: 'X' });
    await assert.rejects(producer.skipNextJob(TYPE, 'l2'), EntityNotPausedError);
    await assert.rejects(
      producer.skipNextJob(TYPE, 'l2', { resume: 'yes' as unknown as boolean }),
      InvalidOptionsError,
    );
    await producer.pauseEntity(TYPE, 'l2');
    assert.deepEqual(await producer.skipNextJob(TYPE, 'l2'), { skipped: null, resumed: false });
    assert.deepEqual(runsOf('l2'), ['X']);
    assert.equal(engines.errors.length, 0, engines.describeErrors());
  });
});
