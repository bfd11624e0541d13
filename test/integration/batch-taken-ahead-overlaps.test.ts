/**
 * With a backlog, a runner takes the next batch while the one in hand runs. A pod sends its steps
 * at the end of a turn of the event loop (StepBatcher), so with handlers that never wait on I/O
 * (CPU work, or the benchmark's no-op jobs) the whole batch used to run in the turn that sent the
 * take: Redis took the next batch only once this one had ended, and the pod and Redis took turns
 * instead of working at once. Redis stamps `processedOn` when a step takes a job: the next batch
 * must be taken while the first job of this one still runs.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Job } from 'bullmq';
import { AtomicEngine } from '../../src';
import { startLocalRedis, type LocalRedis } from '../../scripts/local-redis';
import { waitFor } from '../../support/async';

const TYPE = 'account';
const ENTITY = 'acct1';
const PREFIX = 'aheadOverlap';
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
  let redis: LocalRedis | undefined;
  let engine: AtomicEngine | undefined;
  let producer: AtomicEngine | undefined;

  afterEach(async () => {
    await engine?.stop();
    await producer?.stop();
    await redis?.stop();
    engine = producer = redis = undefined;
  });

  it('is taken while the batch before it runs, also when its handlers never wait', async () => {
    redis = await startLocalRedis();
    // The jobs are stored before the pod starts, so that its first take finds a full batch.
    producer = new AtomicEngine({
      redis: redis.url,
      keyPrefix: PREFIX,
      podId: 'producer',
      processing: false,
      logger: false,
      entities: { [TYPE]: {} },
    });
    await producer.start();
    const labels = Array.from({ length: 2 * BATCH }, (_, i) => `j${i + 1}`);
    await producer.enqueueBulk(
      labels.map((label) => ({ type: TYPE, entityId: ENTITY, name: 'op', data: { label } })),
    );

    const ran: { label: string; processedOn: number | undefined }[] = [];
    engine = new AtomicEngine({
      redis: redis.url,
      keyPrefix: PREFIX,
      podId: 'pod',
      logger: false,
      entities: { [TYPE]: { batchSize: BATCH, idleTimeoutSeconds: 60 } },
    });
    // Not async: the handler returns once its CPU work is done, in the turn it started in.
    engine.registerHandler(TYPE, (job: Job) => {
      const label = (job.data as { label: string }).label;
      ran.push({ label, processedOn: job.processedOn });
      spin(SPIN_MS);
      return Promise.resolve(label);
    });
    await engine.start();
    await waitFor(() => ran.length === labels.length, {
      timeoutMs: 20_000,
      message: 'every job ran',
    });

    assert.deepEqual(
      ran.map((r) => r.label),
      labels,
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
  });
});
