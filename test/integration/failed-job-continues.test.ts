/**
 * G2, `onFailure: 'continue'` (the default): after its last attempt a job goes to BullMQ's failed
 * set, inspectable, and the entity goes on with its next job.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from 'bullmq';
import type { JobContext } from '../../src';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';
import { queueCounts, queueKey } from '../fixtures/queue-state';

const TYPE = 'account';

describe('a job failing its last attempt, onFailure continue', () => {
  const { prefix, engines, redis } = integrationSuite('failedJobContinues');

  it(
    'is in the failed set with its reason, and the next job runs',
    { timeout: 30_000 },
    async () => {
      const engine = engines.create({
        podId: 'pod1',
        entities: { [TYPE]: { attempts: 2, onFailure: 'continue' } },
      });
      const log: string[] = [];
      engine.registerHandler(TYPE, (job: Job, ctx: JobContext) => {
        const label = (job.data as { label: string }).label;
        log.push(`${label}#${ctx.attempt}`);
        if (label === 'A') throw new Error('card declined');
        return 'ok';
      });
      const failed: { jobId: string; error: unknown }[] = [];
      const completed: string[] = [];
      engine.on('job:failed', (e: { jobId: string; error: unknown }) => failed.push(e));
      engine.on('job:completed', (e: { jobId: string }) => completed.push(e.jobId));
      await engine.start();

      const [a, b] = await engine.enqueueBulk([
        { type: TYPE, entityId: 'acct1', name: 'charge', data: { label: 'A' } },
        { type: TYPE, entityId: 'acct1', name: 'charge', data: { label: 'B' } },
      ]);
      await waitFor(() => completed.length === 1, { timeoutMs: 15_000, message: 'B completed' });

      assert.deepEqual(log, ['A#1', 'A#2', 'B#1']);
      assert.equal(failed.length, 1);
      assert.equal(failed[0].jobId, a);
      assert.equal((failed[0].error as Error).message, 'card declined');
      assert.deepEqual(completed, [b]);

      assert.notEqual(
        await redis.zscore(queueKey(prefix, TYPE, 'acct1', 'failed'), a),
        null,
        'A is in the failed set',
      );
      const [reason, attempts] = await redis.hmget(
        queueKey(prefix, TYPE, 'acct1', a),
        'failedReason',
        'atm',
      );
      assert.equal(reason, 'card declined');
      assert.equal(attempts, '2');
      assert.deepEqual(await queueCounts(redis, prefix, TYPE, 'acct1'), {
        wait: 0,
        active: 0,
        delayed: 0,
        prioritized: 0,
        completed: 1,
        failed: 1,
      });
      assert.equal(engines.errors.length, 0, engines.describeErrors());
    },
  );
});
