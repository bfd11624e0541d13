/** Callers of enqueueAndWait / waitForJob waiting for results: deadlines on a fake clock, no Redis. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineStateError, JobFailedError, JobTimeoutError } from '../../src';
import { ManualClock } from '../../src/core/clock';
import { JobIds } from '../../src/core/producing/job-ids';
import { ReplyWaiters } from '../../src/core/replies/reply-waiters';

const noConnections = {} as never;

function settled<T>(promise: Promise<T>): { value?: T; error?: unknown; done: boolean } {
  const state: { value?: T; error?: unknown; done: boolean } = { done: false };
  promise.then(
    (value) => Object.assign(state, { value, done: true }),
    (error: unknown) => Object.assign(state, { error, done: true }),
  );
  return state;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('job ids', () => {
  it('are unique per engine and across engines, and never all digits', () => {
    const a = new JobIds();
    const b = new JobIds();
    const ids = [a.next(), a.next(), b.next()];
    assert.equal(new Set(ids).size, 3);
    for (const id of ids) assert.match(id, /^[0-9a-f]{12}\.[0-9a-z]+$/);
  });
});

describe('reply waiters', () => {
  it('time out by their deadline, in buckets, and not before', async () => {
    const clock = new ManualClock(1_000);
    const waiters = new ReplyWaiters(noConnections, 'ch', () => undefined, clock);
    // Deadlines 1201 and 1240 round up to the same 50 ms bucket, 1250.
    const a = settled(waiters.expect('j1', 201, 'account', 'a').promise);
    const b = settled(waiters.expect('j2', 240, 'account', 'b').promise);
    assert.equal(clock.pending, 1, 'one timer for both');
    clock.advance(249);
    await tick();
    assert.equal(a.done, false);
    assert.equal(b.done, false);
    clock.advance(1);
    await tick();
    assert.ok(a.error instanceof JobTimeoutError);
    assert.ok(b.error instanceof JobTimeoutError);
    assert.match(String((a.error as Error).message), /j1 of account `a` within 201 ms/);
  });

  it('settle every caller of a job once, and cancel the bucket timer with the last', async () => {
    const clock = new ManualClock();
    const waiters = new ReplyWaiters(noConnections, 'ch', () => undefined, clock);
    const first = settled(waiters.expect('j1', 1000, 'account', 'a').promise);
    const second = settled(waiters.expect('j1', 1000, 'account', 'a').promise);
    const ko = settled(waiters.expect('j2', 1000, 'account', 'a').promise);
    waiters.settle({ jobId: 'j1', status: 'completed', value: { n: 1 } }, true);
    waiters.settle({
      jobId: 'j2',
      status: 'failed',
      error: {
        name: 'InsufficientFunds',
        message: 'no money',
        stack: 'InsufficientFunds: no money\n    at handler',
        fields: { status: 409, response: { code: 'FUNDS' } },
      },
    });
    await tick();
    assert.deepEqual(first.value, { n: 1 });
    assert.deepEqual(second.value, { n: 1 });
    const error = ko.error as JobFailedError & { status?: number; response?: unknown };
    assert.ok(error instanceof JobFailedError);
    assert.equal(error.name, 'InsufficientFunds');
    assert.equal(error.message, 'no money');
    assert.match(error.stack ?? '', /at handler/);
    assert.equal(error.status, 409, "the handler error's own fields are kept");
    assert.deepEqual(error.response, { code: 'FUNDS' });
    assert.equal(clock.pending, 0, 'the bucket timer is gone');
    assert.equal(waiters.awaits('j1'), false);
  });

  it('fail one caller without touching another of the same job', async () => {
    const clock = new ManualClock();
    const waiters = new ReplyWaiters(noConnections, 'ch', () => undefined, clock);
    const failing = waiters.expect('j1', 1000, 'account', 'a');
    const other = settled(waiters.expect('j1', 1000, 'account', 'a').promise);
    const failed = settled(failing.promise);
    failing.fail(new Error('enqueue refused'));
    await tick();
    assert.equal((failed.error as Error).message, 'enqueue refused');
    assert.equal(other.done, false);
    waiters.settle({ jobId: 'j1', status: 'completed', value: 7 });
    await tick();
    assert.equal(other.value, 7);
  });

  it('reject every waiter when closed', async () => {
    const clock = new ManualClock();
    const waiters = new ReplyWaiters(noConnections, 'ch', () => undefined, clock);
    const w = settled(waiters.expect('j9', 1000, 'account', 'a').promise);
    waiters.close();
    await tick();
    assert.ok(w.error instanceof EngineStateError);
    assert.equal(clock.pending, 0);
  });
});
