/**
 * Graceful stop: the running job finishes (and is completed) before stop() resolves; the pod
 * takes nothing new, leaves no active job and no lease key, closes its connections, and hands
 * the entity's remaining jobs to other pods at once (a spawn signal, not the safety sweep: the
 * pod taking over here runs without a sweep).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from 'bullmq';
import type { JobContext } from '../../src';
import { clientCount } from '../helpers/redis';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';
import { leaseKeys, queueCounts, queueKey } from '../fixtures/queue-state';

const TYPE = 'account';
const ENTITY = 'acct1';

describe('graceful stop', () => {
  const { prefix, engines, redis } = integrationSuite('gracefulStop');

  it(
    'finishes the running job, leaves no active job and no lease, hands the rest over',
    { timeout: 30_000 },
    async () => {
      const log: { pod: string; label: string; event: 'start' | 'end'; at: number }[] = [];
      const handler = async (job: Job, ctx: JobContext): Promise<string> => {
        const label = (job.data as { label: string }).label;
        log.push({ pod: ctx.podId, label, event: 'start', at: Date.now() });
        if (label === 'slow') await new Promise((resolve) => setTimeout(resolve, 500));
        log.push({ pod: ctx.podId, label, event: 'end', at: Date.now() });
        return `${label} by ${ctx.podId}`;
      };
      const a = engines.create({ podId: 'podA', entities: { [TYPE]: {} } });
      a.registerHandler(TYPE, handler);
      await a.start();
      const [slow] = await a.enqueueBulk(
        ['slow', 'second', 'third'].map((label) => ({
          type: TYPE,
          entityId: ENTITY,
          name: 'op',
          data: { label },
        })),
      );
      await waitFor(() => log.some((l) => l.label === 'slow' && l.event === 'start'), {
        message: 'slow job started',
      });
      assert.equal(
        (await leaseKeys(redis, prefix)).length,
        1,
        'a lease key while running (positive control)',
      );
      assert.ok(
        (await clientCount(redis, `${prefix}:aq:podA`)) > 0,
        'podA connections (positive control)',
      );

      await a.stop();
      const stoppedAt = Date.now();
      const slowEnd = log.find((l) => l.label === 'slow' && l.event === 'end');
      assert.ok(slowEnd && slowEnd.at <= stoppedAt, 'stop() waited for the running job to finish');
      assert.deepEqual(
        log.map((l) => `${l.label}:${l.event}`),
        ['slow:start', 'slow:end'],
        'nothing new started',
      );
      assert.notEqual(
        await redis.zscore(queueKey(prefix, TYPE, ENTITY, 'completed'), slow),
        null,
        'the running job was completed',
      );
      assert.deepEqual(await leaseKeys(redis, prefix), [], 'no lease key left');
      const counts = await queueCounts(redis, prefix, TYPE, ENTITY);
      assert.equal(counts.active, 0, 'no active job left');
      assert.equal(counts.wait, 2, 'the two other jobs are still queued');
      assert.equal(await clientCount(redis, `${prefix}:aq:podA`), 0, 'podA closed its connections');

      // Another pod, with no safety sweep: only the hand-over signal can bring it the entity.
      const b = engines.create({
        podId: 'podB',
        enableCronManager: false,
        entities: { [TYPE]: {} },
      });
      b.registerHandler(TYPE, handler);
      await b.start();
      await waitFor(() => log.filter((l) => l.pod === 'podB' && l.event === 'end').length === 2, {
        timeoutMs: 10_000,
        message: 'podB ran the two remaining jobs',
      });
      assert.deepEqual(
        log.filter((l) => l.pod === 'podB' && l.event === 'start').map((l) => l.label),
        ['second', 'third'],
      );
      await b.stop();
      assert.deepEqual(await leaseKeys(redis, prefix), []);
      assert.equal((await queueCounts(redis, prefix, TYPE, ENTITY)).completed, 3);
      assert.equal(engines.errors.length, 0, engines.describeErrors());
    },
  );
});
