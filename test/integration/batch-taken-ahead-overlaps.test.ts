/**
 * With a backlog, a runner takes the next batch while the one in hand runs. A pod sends its steps
 * at the end of a turn of the event loop (StepBatcher), so with handlers that never wait on I/O
 * (CPU work, or the benchmark's no-op jobs) the whole batch used to run in the turn that sent the
 * take: Redis took the next batch only once this one had ended, and the pod and Redis took turns
 * instead of working at once. Redis stamps `processedOn` when a step takes a job: every job after
 * the first take must have been taken while jobs before it still ran, at least a job's time
 * before it starts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from 'bullmq';
import { waitFor } from '../../support/async';
import { enqueueSequences } from '../fixtures/engines';
import { integrationSuite } from '../fixtures/integration-suite';

const TYPE = 'account';
const BATCH = 4;
/** Each job holds the event loop this long, never yielding. */
const SPIN_MS = 100;

function spin(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // CPU work: no I/O, no await
  }
}

describe('a batch taken ahead', () => {
  const { engines } = integrationSuite('batch-taken-ahead');

  it('is taken while the batch before it runs, also when its handlers never wait', async () => {
    // Stored before the pod starts, so that its first take finds a full batch.
    await enqueueSequences(engines, TYPE, ['acct1'], 2 * BATCH);
    const ran: { seq: number; processedOn: number | undefined; startedAt: number }[] = [];
    const pod = engines.create({
      podId: 'pod',
      logger: false,
      entities: { [TYPE]: { batchSize: BATCH, idleTimeoutSeconds: 60 } },
    });
    // Not async: the handler returns once its CPU work is done, in the turn it started in.
    pod.registerHandler(TYPE, (job: Job) => {
      ran.push({
        seq: (job.data as { seq: number }).seq,
        processedOn: job.processedOn,
        startedAt: Date.now(),
      });
      spin(SPIN_MS);
      return Promise.resolve();
    });
    await pod.start();
    await waitFor(() => ran.length === 2 * BATCH, { timeoutMs: 20_000, message: 'every job ran' });

    assert.deepEqual(
      ran.map((r) => r.seq),
      Array.from({ length: 2 * BATCH }, (_, i) => i),
      'the jobs ran in order',
    );
    // Taken only once the jobs before it had run, a job would start as soon as it is taken.
    for (const { seq, processedOn, startedAt } of ran.slice(BATCH)) {
      assert.ok(processedOn !== undefined, `Redis stamped processedOn of job ${seq}`);
      assert.ok(
        startedAt - processedOn >= SPIN_MS / 2,
        `job ${seq} was taken ${startedAt - processedOn} ms before it started, ` +
          `not while the jobs before it ran (${SPIN_MS} ms each)`,
      );
    }
    assert.equal(engines.describeErrors(), '', 'no engine errors');
  });
});
