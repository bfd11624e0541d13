/**
 * A job starts only while the runner's lease is surely valid; when a renewal can't confirm it (its
 * replies keep coming back too late: a loaded host, a slow network), the job and the rest of its
 * batch go back to the head of wait, unrun, and the runner carries on (README G2). With a backlog
 * the runner has the next half batch in hand (or on its way) at that moment: those jobs come after
 * the ones going back, so they must not run before them.
 *
 * The late renewals are made by the test: the runner's lease checks answer "not confirmed" once,
 * with the lease still held in Redis, which is what three late replies in a row look like to the
 * runner. Everything else is the real engine on the real Redis.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Job } from 'bullmq';
import { startedPod } from '../../src/core/engine-internals';
import { waitFor } from '../../support/async';
import { enqueueSequencesWith } from '../fixtures/engines';
import { integrationSuite } from '../fixtures/integration-suite';

const TYPE = 'account';
const JOBS = 24;

describe('a job whose lease could not be confirmed goes back', () => {
  const { engines } = integrationSuite('unconfirmed-lease');
  const producer = engines.create({
    processing: false,
    podId: 'producer',
    entities: { [TYPE]: {} },
  });
  before(() => producer.start());

  for (const refuseAt of [1, 3, 5]) {
    it(`and the jobs after it run after it (the check before job ${refuseAt + 1} fails)`, async () => {
      const entity = `acct${refuseAt}`;
      await enqueueSequencesWith(producer, TYPE, [entity], JOBS);
      const pod = engines.create({
        podId: `pod${refuseAt}`,
        logger: false,
        entities: { [TYPE]: { batchSize: 8, idleTimeoutSeconds: 60 } },
      });
      const ran: number[] = [];
      let completed = 0;
      pod.on('job:completed', () => {
        completed += 1;
      });
      pod.registerHandler(TYPE, (job: Job) => {
        const seq = (job.data as { seq: number }).seq;
        ran.push(seq);
        if (seq === refuseAt && ran.length === seq + 1) {
          // The check before the next job can't confirm the lease, once.
          const [runner] = startedPod(pod).runners.all();
          runner.leaseSurelyValid = () => false;
          runner.leaseStillValid = () => {
            delete (runner as Partial<typeof runner>).leaseSurelyValid;
            delete (runner as Partial<typeof runner>).leaseStillValid;
            return Promise.resolve(false);
          };
        }
        return Promise.resolve();
      });
      await pod.start();
      await waitFor(() => completed === JOBS, {
        timeoutMs: 20_000,
        message: 'every job completed',
      });
      await pod.stop();

      assert.deepEqual(
        ran,
        Array.from({ length: JOBS }, (_, seq) => seq),
        'each job ran once, in order',
      );
      assert.equal(engines.describeErrors(), '', 'no engine errors');
    });
  }
});
