/**
 * `enqueueAndWait` resolves with the handler's result (through JSON), rejects with JobFailedError
 * carrying the handler error whole (name, message, stack, cause, own fields), and with
 * JobTimeoutError when no result comes within `timeoutMs` (the job still runs).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Job } from 'bullmq';
import { JobFailedError, JobTimeoutError } from '../../../src';
import { TYPE, Gates, settled, type Behaviour } from '../backend';

class InsufficientFundsError extends Error {
  readonly status = 409;
  readonly response = { balance: 5, asked: 10 };
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InsufficientFundsError';
  }
}

export const enqueueAndWait: Behaviour = (backend) => {
  it("resolves with the handler's result, as JSON carries it", async (t) => {
    const h = await backend.open(t, {
      handler: (job: Job) => {
        const { a, b } = job.data as { a: number; b: number };
        return { sum: a + b, at: new Date(0), list: [1, 'two', null, undefined], none: undefined };
      },
    });
    const result = await h.engine.enqueueAndWait(TYPE, 'e1', 'add', { a: 2, b: 3 });
    assert.deepEqual(result, {
      sum: 5,
      at: '1970-01-01T00:00:00.000Z',
      list: [1, 'two', null, null],
    });
  });

  it('rejects with JobFailedError carrying the handler error whole', async (t) => {
    let thrown: InsufficientFundsError | undefined;
    const h = await backend.open(t, {
      handler: () => {
        thrown = new InsufficientFundsError('balance 5 < 10', {
          cause: Object.assign(new TypeError('rounding'), { digits: 2 }),
        });
        throw thrown;
      },
    });
    await assert.rejects(h.engine.enqueueAndWait(TYPE, 'e1', 'withdraw', {}), (err: unknown) => {
      assert.ok(err instanceof JobFailedError, `a JobFailedError, got ${String(err)}`);
      assert.equal(err.code, 'JOB_FAILED');
      assert.equal(err.name, 'InsufficientFundsError');
      assert.equal(err.handlerErrorName, 'InsufficientFundsError');
      assert.equal(err.message, 'balance 5 < 10');
      assert.equal(err.stack, thrown?.stack, 'the handler error’s stack');
      const own = err as unknown as Record<string, unknown>;
      assert.equal(own.status, 409);
      assert.deepEqual(own.response, { balance: 5, asked: 10 });
      assert.deepEqual(err.details, { status: 409, response: { balance: 5, asked: 10 } });
      const cause = err.cause as Error & { digits?: number };
      assert.equal(cause.name, 'TypeError');
      assert.equal(cause.message, 'rounding');
      assert.equal(cause.digits, 2);
      return true;
    });
  });

  it('rejects with JobTimeoutError after timeoutMs; the job still runs', async (t) => {
    const gates = new Gates(t);
    let started = false;
    const h = await backend.open(t, {
      handler: async () => {
        started = true;
        await gates.wait('slow');
        return 'late';
      },
    });
    const call = h.engine.enqueueAndWait(TYPE, 'e1', 'slow', {}, { timeoutMs: 200 });
    await h.until(() => started, 'the job started');
    h.advance(250);
    await assert.rejects(settled(h, call, 'the call timed out'), (err: unknown) => {
      assert.ok(err instanceof JobTimeoutError, `a JobTimeoutError, got ${String(err)}`);
      assert.equal(err.code, 'JOB_TIMEOUT');
      assert.equal(err.timeoutMs, 200);
      return true;
    });
    gates.open('slow');
    await h.until(() => h.eventsOf('job:completed').length === 1, 'the job completed anyway');
    assert.equal(h.eventsOf('job:completed')[0].result, 'late');
  });
};
