/**
 * A crash re-runs the jobs whose completion was not stored: at most `batchSize` per entity
 * (README, G3). With a backlog a runner stores completions half a batch at a time, in a step that
 * is still on its way while the next half runs, so at times jobs of two halves have run without
 * their completion stored. Their count must never exceed `batchSize`.
 *
 * A pod emits `job:completed` once a job's completion is stored (the step's reply). Each handler
 * counts, as it starts, the jobs started so far whose `job:completed` has not come: what a crash
 * at that moment could make the next holder run again (at least: a step on its way may be
 * stored already, which only lowers the real figure).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Job } from 'bullmq';
import { waitFor } from '../../support/async';
import { enqueueSequencesWith } from '../fixtures/engines';
import { integrationSuite } from '../fixtures/integration-suite';

const TYPE = 'account';
const JOBS = 60;

describe('jobs run and not yet stored', () => {
  const { engines, redis } = integrationSuite('batch-crash-bound');
  const producer = engines.create({
    processing: false,
    podId: 'producer',
    entities: { [TYPE]: {} },
  });
  before(() => producer.start());

  for (const batchSize of [8, 5, 2]) {
    it(`never exceed batchSize (${batchSize}), with a backlog`, async () => {
      const entity = `acct${batchSize}`;
      await enqueueSequencesWith(producer, TYPE, [entity], JOBS);
      const pod = engines.create({
        podId: `pod${batchSize}`,
        logger: false,
        entities: { [TYPE]: { batchSize, idleTimeoutSeconds: 60 } },
      });
      const ran: number[] = [];
      let stored = 0;
      let mostUnstored = 0;
      pod.on('job:completed', () => {
        stored += 1;
      });
      pod.registerHandler(TYPE, async (job: Job) => {
        ran.push((job.data as { seq: number }).seq);
        mostUnstored = Math.max(mostUnstored, ran.length - stored);
        // A round trip: replies of steps on their way can come back meanwhile.
        await redis.ping();
      });
      await pod.start();
      await waitFor(() => stored === JOBS, { timeoutMs: 20_000, message: 'every job stored' });
      // Stopped, so that the next case's entity goes to the next case's pod.
      await pod.stop();

      assert.deepEqual(
        ran,
        Array.from({ length: JOBS }, (_, seq) => seq),
        'each job ran once, in order',
      );
      assert.ok(
        mostUnstored <= batchSize,
        `${mostUnstored} jobs had run without their completion stored (batchSize ${batchSize})`,
      );
      assert.equal(engines.describeErrors(), '', 'no engine errors');
    });
  }
});
