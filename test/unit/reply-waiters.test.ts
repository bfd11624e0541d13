/** Callers of enqueueAndWait waiting for results: deadlines on a fake clock, no Redis. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineStateError, JobFailedError, JobTimeoutError } from '../../src';
import { ManualClock } from '../../src/core/clock';
import { makeReplyId, awaitingPodOf, isReplyId } from '../../src/core/replies/reply-id';
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

describe('reply ids', () => {
  it('name the awaiting pod, and only ids made so count as reply ids', () => {
    const id = makeReplyId('host_1.42.ab12', 36);
    assert.equal(id, 'aqr.host_1.42.ab12.10');
    assert.equal(isReplyId(id), true);
    assert.equal(awaitingPodOf(id), 'host_1.42.ab12');
    assert.equal(isReplyId('order-7'), false);
    assert.equal(isReplyId(undefined), false);
  });
});

describe('reply waiters', () => {
  it('time out by their deadline, in buckets, and not before', async () => {
    const clock = new ManualClock(1_000);
    const waiters = new ReplyWaiters(noConnections, 'ch', () => undefined, clock);
    // Deadlines 1201 and 1240 round up to the same 50 ms bucket, 1250.
    const a = settled(waiters.expect('aqr.p.1', 201, 'account', 'a'));
    const b = settled(waiters.expect('aqr.p.2', 240, 'account', 'b'));
    assert.equal(clock.pending, 1, 'one timer for both');
    clock.advance(249);
    await tick();
    assert.equal(a.done, false);
    assert.equal(b.done, false);
    clock.advance(1);
    await tick();
    assert.ok(a.error instanceof JobTimeoutError);
    assert.ok(b.error instanceof JobTimeoutError);
    assert.match(String((a.error as Error).message), /aqr\.p\.1 of account `a` within 201 ms/);
  });

  it('settle a local result once, and cancel the bucket timer when its last waiter settles', async () => {
    const clock = new ManualClock();
    const waiters = new ReplyWaiters(noConnections, 'ch', () => undefined, clock);
    const ok = settled(waiters.expect('aqr.p.1', 1000, 'account', 'a'));
    const ko = settled(waiters.expect('aqr.p.2', 1000, 'account', 'a'));
    assert.equal(
      waiters.settleLocal({ jobId: 'aqr.p.1', status: 'completed', value: { n: 1 } }),
      true,
    );
    assert.equal(
      waiters.settleLocal({
        jobId: 'aqr.p.2',
        status: 'failed',
        error: { name: 'InsufficientFunds', message: 'no money' },
      }),
      true,
    );
    await tick();
    assert.deepEqual(ok.value, { n: 1 });
    assert.ok(ko.error instanceof JobFailedError);
    assert.equal((ko.error as Error).name, 'InsufficientFunds');
    assert.equal(clock.pending, 0, 'the bucket timer is gone');
    assert.equal(waiters.settleLocal({ jobId: 'aqr.p.1', status: 'completed', value: 2 }), false);
  });

  it('reject every waiter when closed', async () => {
    const clock = new ManualClock();
    const waiters = new ReplyWaiters(noConnections, 'ch', () => undefined, clock);
    const w = settled(waiters.expect('aqr.p.9', 1000, 'account', 'a'));
    waiters.close();
    await tick();
    assert.ok(w.error instanceof EngineStateError);
    assert.equal(clock.pending, 0);
  });
});
