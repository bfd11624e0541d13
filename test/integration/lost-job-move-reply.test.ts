/**
 * A step (`step-1.lua`, which finishes the jobs a runner ran and takes its next ones) whose reply
 * is lost with its connection: Redis ran it, ioredis resends it, and the resent copy meets a
 * queue the first one changed.
 * - A step that takes: the first copy moved the jobs to active, locked with the holder's token
 *   under a live lease; the resent one takes what is left (nothing, or later jobs).
 * - A step that finishes job 1 and takes the next: the first copy completed job 1 and took
 *   job 2; the resent one finds job 1 gone (refused).
 * Either way the runner notices the reconnect, puts back the jobs it does not run (in order) and
 * goes on: each job runs once, in order, without waiting for a lease to expire, and a caller
 * awaiting job 1 gets its result.
 * - `recordAttempt-4.lua` (a failed attempt to be retried in place): the resent copy must not
 *   count the attempt twice (the job's `attemptsMade`, which a pod taking the job over reads).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { TYPE, lostReplySuite, scriptCall } from '../fixtures/lost-reply-suite';
import { queueKey } from '../fixtures/queue-state';

describe('a job step whose reply is lost', () => {
  const { prefix, redis, producer, proxy, starts, engineBehindProxy } =
    lostReplySuite('lostJobMove');
  // One holder for every test (each can run alone, e.g. with --test-name-pattern).
  before(() => engineBehindProxy('holder', { entities: { [TYPE]: { attempts: 3 } } }));

  it('a take: the jobs moved by the lost copy run first, once', { timeout: 30_000 }, async (t) => {
    const lost = proxy().loseReply(scriptCall('step', 'm'));
    const t0 = Date.now();
    await producer.enqueueBulk(
      ['m1', 'm2'].map((label) => ({ type: TYPE, entityId: 'm', name: 'op', data: { label } })),
    );
    await lost;
    await starts.within(t, 'm2', t0);
    assert.deepEqual(starts.order(), ['m1', 'm2'], 'in order');
    assert.deepEqual([starts.of('m1').length, starts.of('m2').length], [1, 1], 'each once');
  });

  it(
    'a finish: each job runs once, in order; the caller gets its result',
    { timeout: 30_000 },
    async (t) => {
      // The holder runs `f` already, and the producer listens for results already: the two jobs
      // below then go out in one batch, in call order.
      assert.equal(await producer.enqueueAndWait(TYPE, 'f', 'op', { label: 'f0' }), 'f0');
      // The step that finishes f1 (it names the job; a step that only takes names none).
      const isStep = scriptCall('step', 'f');
      const lost = proxy().loseReply((command) => isStep(command) && command.includes('f1-job'));
      const t0 = Date.now();
      const result = producer.enqueueAndWait(
        TYPE,
        'f',
        'op',
        { label: 'f1' },
        { timeoutMs: 20_000, jobId: 'f1-job' },
      );
      await producer.enqueue(TYPE, 'f', 'op', { label: 'f2' });
      await lost;
      assert.equal(await result, 'f1', 'the awaiting caller got the result');
      await starts.within(t, 'f2', t0);
      assert.deepEqual(starts.order().slice(-2), ['f1', 'f2'], 'in order');
      assert.deepEqual([starts.of('f1').length, starts.of('f2').length], [1, 1], 'each once');
    },
  );

  it('recordAttempt: the failed attempt counts once', { timeout: 30_000 }, async () => {
    starts.fail('a1', 1);
    const lost = proxy().loseReply(scriptCall('recordAttempt', 'a'));
    const result = await producer.enqueueAndWait(
      TYPE,
      'a',
      'op',
      { label: 'a1' },
      { jobId: 'a-job' },
    );
    await lost;
    assert.equal(result, 'a1');
    assert.equal(starts.of('a1').length, 2, 'one failed attempt, then the one that succeeded');
    // BullMQ's count: one per failed attempt, and one for the attempt that completed.
    assert.equal(await redis.hget(queueKey(prefix, TYPE, 'a', 'a-job'), 'atm'), '2');
  });
});
