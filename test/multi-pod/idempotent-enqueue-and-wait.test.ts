/**
 * enqueueAndWait after an outage: a caller whose wait timed out can retry with the same jobId
 * and get the first job's result, never a second execution; two callers with one jobId share one
 * execution; any pod can wait for a job by id; a failed job's error arrives whole. One worker
 * pod process runs the jobs; two producer-only engines in the test process call it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobFailedError, JobNotFoundError, JobTimeoutError, type AtomicEngine } from '../../src';
import { multiPodSuite } from '../fixtures/multi-pod-suite';
import { executionsOf, readLedger } from '../fixtures/ledger';
import type { CounterResult } from '../fixtures/counter-handler';

const TYPE = 'account';

describe('enqueueAndWait with a jobId, and waitForJob', () => {
  const { fleet, engines } = multiPodSuite('idempotentWait');
  let a: AtomicEngine;
  let b: AtomicEngine;
  const runsOf = (jobId: string) =>
    executionsOf(readLedger(fleet.ledgerFiles)).filter((e) => e.jobId === jobId).length;

  it('starts a worker pod and two producers', async () => {
    await fleet.startMany([{ podId: 'worker', delayMs: 5 }]);
    const producer = (podId: string) =>
      engines.create({ podId, processing: false, entities: { [TYPE]: {} } });
    a = producer('producerA');
    b = producer('producerB');
    await Promise.all([a.start(), b.start()]);
  });

  it('a retry after a timeout gets the first job’s result; the job ran once', async () => {
    const slow = { seq: 1, delayMs: 800 };
    const timedOut = await a
      .enqueueAndWait(TYPE, 'e1', 'op', slow, { jobId: 'tx-1', timeoutMs: 200 })
      .then(
        () => assert.fail('the first wait should time out'),
        (err: unknown) => err,
      );
    assert.ok(timedOut instanceof JobTimeoutError);
    assert.equal(timedOut.jobId, 'tx-1', 'the timeout names the job, so the caller can retry');
    const retried = (await a.enqueueAndWait(TYPE, 'e1', 'op', slow, {
      jobId: 'tx-1',
    })) as CounterResult;
    assert.equal(retried.seq, 1);
    assert.equal(runsOf('tx-1'), 1, 'one execution');
    const again = (await b.enqueueAndWait(TYPE, 'e1', 'op', slow, {
      jobId: 'tx-1',
      timeoutMs: 1000,
    })) as CounterResult;
    assert.deepEqual(again, retried, 'a finished job answers at once with its stored result');
    assert.equal(runsOf('tx-1'), 1, 'still one execution');
  });

  it('two callers of one jobId share one execution and one result', async () => {
    const data = { seq: 2, delayMs: 300 };
    const [fromA, fromB] = (await Promise.all([
      a.enqueueAndWait(TYPE, 'e2', 'op', data, { jobId: 'tx-2' }),
      b.enqueueAndWait(TYPE, 'e2', 'op', data, { jobId: 'tx-2' }),
    ])) as CounterResult[];
    assert.deepEqual(fromA, fromB);
    assert.equal(runsOf('tx-2'), 1);
  });

  it('waitForJob answers from any pod, before or after the job finishes', async () => {
    await a.enqueue(TYPE, 'e3', 'op', { seq: 3, delayMs: 300 }, { jobId: 'tx-3' });
    const pending = b.waitForJob(TYPE, 'e3', 'tx-3');
    const result = (await pending) as CounterResult;
    assert.equal(result.seq, 3);
    assert.deepEqual(await a.waitForJob(TYPE, 'e3', 'tx-3'), result, 'after it finished');
    await assert.rejects(
      b.waitForJob(TYPE, 'e3', 'never-enqueued', { timeoutMs: 1000 }),
      (err: unknown) => err instanceof JobNotFoundError && err.jobId === 'never-enqueued',
    );
  });

  it('a failed job’s error arrives with its name, message, stack, cause and fields', async () => {
    const fail = {
      name: 'InsufficientFunds',
      message: 'no money',
      status: 409,
      cause: 'balance 0',
    };
    const check = (err: unknown): boolean => {
      const e = err as JobFailedError & { status?: number };
      assert.ok(e instanceof JobFailedError, `a JobFailedError, got ${String(err)}`);
      assert.equal(e.name, 'InsufficientFunds');
      assert.equal(e.message, 'no money');
      assert.equal(e.status, 409);
      assert.equal(e.jobId, 'tx-4');
      assert.match(e.stack ?? '', /counter-handler/, 'the handler’s own stack, from the worker');
      assert.equal((e.cause as Error | undefined)?.message, 'balance 0');
      return true;
    };
    await assert.rejects(
      a.enqueueAndWait(TYPE, 'e4', 'op', { seq: 4, fail }, { jobId: 'tx-4' }),
      check,
    );
    await assert.rejects(b.waitForJob(TYPE, 'e4', 'tx-4'), check, 'read back after it failed');
    assert.equal(engines.errors.length, 0, engines.describeErrors());
    fleet.passed();
  });
});
