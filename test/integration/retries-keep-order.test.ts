/**
 * G2: a failing job keeps its place. Its retries (attempts, with backoff) run before any later
 * job of the same entity — even one enqueued while the retry is waiting out its backoff.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from 'bullmq';
import type { JobContext } from '../../src';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';
import { queueKey } from '../fixtures/queue-state';

const TYPE = 'account';

describe('retries keep order', () => {
  const { prefix, engines, redis } = integrationSuite('retriesKeepOrder');

  it(
    'a job failing twice then succeeding runs all its attempts before the next job',
    { timeout: 30_000 },
    async () => {
      const engine = engines.create({
        podId: 'pod1',
        entities: { [TYPE]: { attempts: 3, backoff: { type: 'fixed', delay: 150 } } },
      });
      const log: string[] = [];
      engine.registerHandler(TYPE, (job: Job, ctx: JobContext) => {
        const data = job.data as { label: string; failures: number };
        log.push(`${data.label}#${ctx.attempt}`);
        if (ctx.attempt <= data.failures)
          throw new Error(`${data.label} attempt ${ctx.attempt} failed`);
        return `${data.label} ok`;
      });
      const completed: string[] = [];
      const failed: string[] = [];
      engine.on('job:completed', (e: { jobId: string }) => completed.push(e.jobId));
      engine.on('job:failed', (e: { jobId: string }) => failed.push(e.jobId));
      await engine.start();

      const a = await engine.enqueue(TYPE, 'acct1', 'op', { label: 'A', failures: 2 });
      // B arrives while A waits out its first backoff.
      await waitFor(() => log.includes('A#1'), { message: 'A ran once' });
      const b = await engine.enqueue(TYPE, 'acct1', 'op', { label: 'B', failures: 0 });
      const c = await engine.enqueue(TYPE, 'acct1', 'op', { label: 'C', failures: 1 });
      await waitFor(() => completed.length === 3, {
        timeoutMs: 15_000,
        message: 'A, B and C completed',
      });

      assert.deepEqual(log, ['A#1', 'A#2', 'A#3', 'B#1', 'C#1', 'C#2']);
      assert.deepEqual(completed, [a, b, c]);
      assert.deepEqual(failed, []);
      const jobA = await redis.hmget(queueKey(prefix, TYPE, 'acct1', a), 'atm', 'returnvalue');
      assert.deepEqual(
        jobA,
        ['3', JSON.stringify('A ok')],
        'BullMQ shows A with 3 attempts and its result',
      );
      assert.equal(engines.errors.length, 0, engines.describeErrors());
    },
  );
});
