/**
 * With a backlog, a runner takes the next batch while the one in hand runs. A pod sends its steps
 * at the end of a turn of the event loop (StepBatcher), so with handlers that never wait on I/O
 * (CPU work, or the benchmark's no-op jobs) the whole batch used to run in the turn that sent the
 * take: Redis took the next batch only once this one had ended, and the pod and Redis took turns
 * instead of working at once. Redis stamps `processedOn` when a step takes a job: the next batch
 * must be taken while the first job of this one still runs.
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
    const ran: { seq: number; processedOn: number | undefined }[] = [];
    const pod = engines.create({
      podId: 'pod',
      logger: false,
      entities: { [TYPE]: { batchSize: BATCH, idleTimeoutSeconds: 60 } },
    });
    // Not async: the handler returns once its CPU work is done, in the turn it started in.
    pod.registerHandler(TYPE, (job: Job) => {
      ran.push({ seq: (job.data as { seq: number }).seq, processedOn: job.processedOn });
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
    const first = ran[0].processedOn;
    const ahead = ran[BATCH].processedOn;
    assert.ok(first !== undefined && ahead !== undefined, 'Redis stamped processedOn');
    // Taken after the first batch, the next one is stamped BATCH × SPIN_MS later at least.
    assert.ok(
      ahead - first < SPIN_MS,
      `the batch after the first was taken ${ahead - first} ms after it, ` +
        `not while its first job ran (${SPIN_MS} ms)`,
    );
    assert.equal(engines.describeErrors(), '', 'no engine errors');
  });
});
