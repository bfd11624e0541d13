/**
 * enqueueAndWait resolves with the handler's return value and rejects with the handler error's
 * name and message — whether the job runs on another pod (producer-only engine here) or on the
 * enqueuing pod itself — and rejects with JobTimeoutError when no result comes in time.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Job } from 'bullmq';
import { JobFailedError, JobTimeoutError, type AtomicEngine, type JobContext } from '../../src';
import { integrationSuite } from '../fixtures/integration-suite';

const TYPE = 'account';

class InsufficientFundsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InsufficientFundsError';
  }
}

describe('enqueueAndWait', () => {
  const { engines } = integrationSuite('enqueueAndWait');
  let worker: AtomicEngine;
  let producer: AtomicEngine;

  before(async () => {
    worker = engines.create({ podId: 'worker', entities: { [TYPE]: {} } });
    worker.registerHandler(TYPE, async (job: Job, ctx: JobContext) => {
      const data = job.data as { a: number; b: number; balance: number; amount: number };
      if (job.name === 'add')
        return { sum: data.a + data.b, by: ctx.podId, nested: { list: [1, 'two', null] } };
      if (job.name === 'withdraw')
        throw new InsufficientFundsError(`balance ${data.balance} < ${data.amount}`);
      if (job.name === 'slow') await new Promise((resolve) => setTimeout(resolve, 1000));
      return null;
    });
    producer = engines.create({ podId: 'producer', processing: false, entities: { [TYPE]: {} } });
    await Promise.all([worker.start(), producer.start()]);
  });

  for (const from of ['producer', 'worker'] as const) {
    it(`returns the handler's value (enqueued on the ${from})`, { timeout: 20_000 }, async () => {
      const engine = from === 'producer' ? producer : worker;
      const value = await engine.enqueueAndWait(
        TYPE,
        `acct-${from}`,
        'add',
        { a: 2, b: 3 },
        { timeoutMs: 10_000 },
      );
      assert.deepEqual(value, { sum: 5, by: 'worker', nested: { list: [1, 'two', null] } });
    });

    it(
      `rejects with the handler error's name and message (enqueued on the ${from})`,
      { timeout: 20_000 },
      async () => {
        const engine = from === 'producer' ? producer : worker;
        await assert.rejects(
          engine.enqueueAndWait(
            TYPE,
            `acct-${from}`,
            'withdraw',
            { balance: 5, amount: 10 },
            { timeoutMs: 10_000 },
          ),
          (err: unknown) => {
            assert.ok(err instanceof JobFailedError, `a JobFailedError, got ${String(err)}`);
            assert.equal(err.name, 'InsufficientFundsError');
            assert.equal(err.message, 'balance 5 < 10');
            assert.equal(err.code, 'JOB_FAILED');
            return true;
          },
        );
      },
    );
  }

  it(
    'rejects with JobTimeoutError when the result does not come in time',
    { timeout: 20_000 },
    async () => {
      await assert.rejects(
        producer.enqueueAndWait(TYPE, 'acct-slow', 'slow', {}, { timeoutMs: 200 }),
        (err: unknown) => err instanceof JobTimeoutError,
      );
      assert.equal(engines.errors.length, 0, engines.describeErrors());
    },
  );
});
