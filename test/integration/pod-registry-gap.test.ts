/**
 * After Redis comes back from an outage (or a paused pod resumes), every pod's registry entry is
 * stale and every lease has expired: nobody could beat or renew. The first pod to beat again
 * must not conclude it is alone, nor take the entities whose leases expired (their holders are
 * reconnecting too, and take them back; nothing moves them once held): for its warm-up it claims
 * nothing, and from the moment its beats stop, before it hears back from Redis. Then it shares
 * as usual.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PodRegistry } from '../../src/core/placement/pod-registry';
import { waitFor } from '../../support/async';
import { defineScripts } from '../../src/redis/script-loader';
import { integrationSuite } from '../fixtures/integration-suite';

const STALE_MS = 400;
/** Beats this far apart are on time: well within the stale limit. */
const ON_TIME_MS = STALE_MS * 0.3;

describe('pod registry after a gap in its heartbeats', () => {
  const { prefix, redis } = integrationSuite('podRegistryGap');
  defineScripts(redis);

  /**
   * The processing pods `ids` of one test, on a registry (and spawn set) of that test alone.
   * `beat` notes when each beat was answered: a registry measures a gap in its beats from there.
   */
  function registry(test: string, ids: string[]) {
    const podsKey = `${prefix}:${test}:pods`;
    const spawnKey = `${prefix}:${test}:spawn`;
    const pods = ids.map((id) => new PodRegistry(podsKey, spawnKey, id, STALE_MS));
    let lastAnswerAt = 0;
    const beat = async (pod: PodRegistry, owned = 0): Promise<void> => {
      await pod.beat(redis, owned, true);
      lastAnswerAt = Date.now();
    };
    return {
      pods,
      spawnKey,
      beat,
      /** Beats `beating` on time until `done` holds. */
      beatUntil: (beating: PodRegistry[], done: () => boolean, message: string) =>
        waitFor(
          async () => {
            for (const pod of beating) await beat(pod, 0);
            return done();
          },
          { intervalMs: ON_TIME_MS, timeoutMs: 25 * STALE_MS, message },
        ),
      /**
       * A gap in the beats (Redis was down): nobody beats until the stale limit has passed since
       * the last beat was answered. Every entry, written before that answer, is then stale too.
       */
      gap: () =>
        waitFor(() => Date.now() - lastAnswerAt > STALE_MS, {
          timeoutMs: 25 * STALE_MS,
          message: 'the stale limit passed since the last beat',
        }),
    };
  }

  it('warms up again instead of claiming everything as the only live pod', async () => {
    const { pods, beat, beatUntil, gap } = registry('alone', ['a', 'b']);
    const [a, b] = pods;
    await beat(a);
    await beat(b);
    await beat(a);
    assert.ok(a.claimBudget(0) > 0 && a.claimBudget(0) < 10, 'two pods: a share, not all');

    // Past the start-up warm-up, beating on time while b is gone: a is alone and may claim all.
    await beatUntil(
      [a],
      () => !a.warmingUp() && !a.processingPods().includes('b'),
      "a past its start-up warm-up, b's entry stale",
    );
    assert.equal(a.warmingUp(), false);
    assert.equal(a.claimBudget(0), Number.MAX_SAFE_INTEGER, 'b stopped beating: a is alone');

    // Neither could beat for longer than the stale limit (Redis was down). Cut off, a claims
    // nothing, even before it hears back; back, b's stale entry proves nothing, and the others'
    // leases expired with a's: a leaves them to their holders for its warm-up.
    await gap();
    assert.equal(a.recovering(), true, 'cut off');
    assert.equal(a.claimBudget(0), 0);
    await beat(a);
    assert.equal(a.warmingUp(), true);
    assert.equal(a.recovering(), true);
    assert.equal(a.claimBudget(0), 0, 'back from a gap: nothing during the warm-up');

    await beat(b);
    await beat(a, 1);
    assert.deepEqual(a.processingPods().sort(), ['a', 'b']);
    assert.equal(a.claimBudget(1), 0, 'b is back, a still warming up: nothing yet');
    await beatUntil([a, b], () => !a.recovering(), 'a past its warm-up');
    assert.ok(a.claimBudget(1) > 0 && a.claimBudget(1) < 10, 'warm: a share with b');
  });

  it('leaves the pods slower to come back their entities, then shares', async () => {
    const { pods, spawnKey, beat, beatUntil, gap } = registry('slower', ['x', 'y', 'z']);
    const [x, y, z] = pods;
    // Past the start-up warm-up, beating on time.
    await beatUntil(pods, () => pods.every((p) => !p.warmingUp()), 'every pod past its warm-up');
    assert.equal(x.recovering(), false);

    // Redis was down: nobody could beat. x and y come back, z is slower; 9 entities wait.
    await gap();
    await redis.zadd(spawnKey, ...Array.from({ length: 9 }, (_, i) => [i, `e${i}`]).flat());
    await beat(x);
    await beat(y);
    await beat(x);
    assert.deepEqual(x.processingPods().sort(), ['x', 'y']);
    assert.deepEqual([x.claimBudget(0), y.claimBudget(0)], [0, 0], 'x, y: nothing yet');
    assert.equal(z.claimBudget(0), 0, 'z, cut off, neither');

    await beat(z);
    await beatUntil(pods, () => pods.every((p) => !p.recovering()), 'every pod past its warm-up');
    const budgets = pods.map((p) => p.claimBudget(0));
    assert.ok(
      budgets.every((b) => b > 0 && b < 9),
      `then each a share: ${budgets.join(', ')}`,
    );
  });
});
