/**
 * A job's result published while the awaiting pod's subscriber connection was down. Pub/sub
 * keeps nothing: the message is gone, and the caller of `enqueueAndWait` (or `waitForJob`) would
 * wait out its timeout although the job finished. When its subscriber is back, the pod looks up
 * every job it awaits (`await-3.lua`) and answers those that finished meanwhile.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HEARTBEAT_TTL_MS, TYPE, lostReplySuite } from '../fixtures/lost-reply-suite';

describe('a job result lost on its way to the awaiting pod', () => {
  const { proxy, engineBehindProxy, engineOnRedis } = lostReplySuite('lostJobResult');

  it('reaches its caller once the subscriber is back', { timeout: 30_000 }, async (t) => {
    await engineOnRedis('holder');
    const waiter = await engineBehindProxy('waiter', { processing: false });
    // The message carries the job's return value, its label.
    const lost = proxy().losePush((message) => message[2]?.includes('"r1"') === true);
    const t0 = Date.now();
    const result = await waiter.enqueueAndWait(
      TYPE,
      'r',
      'op',
      { label: 'r1' },
      {
        timeoutMs: 20_000,
      },
    );
    const waited = Date.now() - t0;
    await lost;
    t.diagnostic(`the caller got the result ${waited} ms after the enqueue`);
    assert.equal(result, 'r1');
    assert.ok(waited < HEARTBEAT_TTL_MS, `the caller waited ${waited} ms`);
  });
});
