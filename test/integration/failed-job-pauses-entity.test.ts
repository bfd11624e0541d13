/**
 * G2, `onFailure: 'pause'`: after its last attempt a job goes to the failed set and the entity is
 * paused — its later jobs stay queued and do not run (and nobody keeps re-claiming it) until the
 * entity is resumed; then they run in order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from 'bullmq';
import type { JobContext } from '../../src';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';
import { heartbeats, leaseKey, queueKey } from '../fixtures/queue-state';

const TYPE = 'account';
const ENTITY = 'acct1';

describe('a job failing its last attempt, onFailure pause', () => {
  const { prefix, engines, redis } = integrationSuite('failedJobPauses');

  it(
    'pauses the entity: later jobs stay queued until it is resumed',
    { timeout: 30_000 },
    async () => {
      const engine = engines.create({
        podId: 'pod1',
        cronInterval: 100,
        workerDefaults: { heartbeatTTL: 0.6 },
        entities: { [TYPE]: { attempts: 1, onFailure: 'pause', idleTimeoutSeconds: 0.2 } },
      });
      const log: string[] = [];
      let leaseSeen = false;
      engine.registerHandler(TYPE, async (job: Job, ctx: JobContext) => {
        const label = (job.data as { label: string }).label;
        log.push(`${label}#${ctx.attempt}`);
        leaseSeen ||= (await redis.exists(leaseKey(prefix, TYPE, ENTITY))) === 1;
        if (label === 'A') throw new Error('ledger mismatch');
        return 'ok';
      });
      const failed: string[] = [];
      let claims = 0;
      engine.on('job:failed', (e: { jobId: string }) => failed.push(e.jobId));
      engine.on('entity:claimed', () => claims++);
      await engine.start();

      const [a, b, c] = await engine.enqueueBulk(
        ['A', 'B', 'C'].map((label) => ({
          type: TYPE,
          entityId: ENTITY,
          name: 'post',
          data: { label },
        })),
      );
      await waitFor(() => failed.length === 1, { message: 'A failed' });
      assert.deepEqual(failed, [a]);
      assert.ok(
        leaseSeen,
        'the lease key existed while A ran (positive control for the check below)',
      );

      // The idle runner lets go of the paused entity; the sweep must not keep re-claiming it.
      await waitFor(async () => (await redis.exists(leaseKey(prefix, TYPE, ENTITY))) === 0, {
        message: 'lease released after the idle timeout',
      });
      // Five heartbeats (200 ms apart) and meanwhile about ten safety sweeps (every 100 ms, on
      // the same event loop; a sweep with nothing due leaves no trace in Redis to wait for):
      // nothing may run B or claim the entity again meanwhile.
      await heartbeats(redis, prefix, 'pod1', 5);
      assert.deepEqual(log, ['A#1'], 'no job after the failed one ran');
      assert.equal(claims, 1, 'the paused entity was not claimed again');
      assert.notEqual(await redis.zscore(queueKey(prefix, TYPE, ENTITY, 'failed'), a), null);
      assert.equal(
        await redis.hget(queueKey(prefix, TYPE, ENTITY, a), 'failedReason'),
        'ledger mismatch',
      );
      assert.deepEqual(
        await redis.lrange(queueKey(prefix, TYPE, ENTITY, 'wait'), 0, -1),
        [c, b],
        'B and C wait, in order',
      );
      const backlog = await engine.getBacklog(TYPE, ENTITY);
      assert.equal(backlog.paused, true);
      assert.equal(backlog.waiting, 2);

      await engine.resumeEntity(TYPE, ENTITY);
      await waitFor(() => log.length === 3, { message: 'B and C ran after resume' });
      assert.deepEqual(log, ['A#1', 'B#1', 'C#1']);
      assert.equal(engines.errors.length, 0, engines.describeErrors());
    },
  );

  it(
    'with batches: the jobs after the failed one, and those taken ahead, wait in order',
    { timeout: 30_000 },
    async () => {
      const entity = 'acct2';
      const engine = engines.create({
        podId: 'pod2',
        entities: { [TYPE]: { attempts: 1, onFailure: 'pause', batchSize: 4 } },
      });
      const log: string[] = [];
      engine.registerHandler(TYPE, async (job: Job) => {
        const label = (job.data as { label: string }).label;
        log.push(label);
        // The first take brings A-D: A and B run, and their step takes E and F while C and D
        // run. C fails once E and F are taken.
        if (label === 'C') {
          await waitFor(
            async () => (await redis.llen(queueKey(prefix, TYPE, entity, 'active'))) === 4,
            { message: 'E and F taken while C runs' },
          );
          throw new Error('ledger mismatch');
        }
        return 'ok';
      });
      await engine.start();
      const labels = ['A', 'B', 'C', 'D', 'E', 'F', 'G'];
      await engine.enqueueBulk(
        labels.map((label) => ({ type: TYPE, entityId: entity, name: 'post', data: { label } })),
      );
      await waitFor(async () => (await engine.getBacklog(TYPE, entity)).paused, {
        message: 'paused after C failed',
      });
      assert.deepEqual(log, ['A', 'B', 'C'], 'no job after the failed one ran');
      await engine.resumeEntity(TYPE, entity);
      await waitFor(() => log.length === labels.length, { message: 'the rest ran after resume' });
      // D (not run in C's batch) before E and F (taken ahead) and G: one give-back, in order.
      assert.deepEqual(log, labels);
      assert.equal(engines.errors.length, 0, engines.describeErrors());
    },
  );
});
