/**
 * After Redis comes back from an outage (or a paused pod resumes), every pod's registry entry is
 * stale: nobody could beat. The first pod to beat again must not conclude it is alone and take
 * every entity with work (nothing moves them back until they idle out): it warms up again, as
 * at start, claiming one entity at a time while it sees no other pod, and no more than an even
 * share counting the pods that went stale recently, leaving the rest to the spawn set.
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

    // Neither could beat for longer than the stale limit (Redis was down). b's entry is stale
    // when a beats first, which proves nothing: a claims one at a time until b could show up.
    await gap();
    await beat(a);
    assert.equal(a.warmingUp(), true);
    assert.equal(a.claimBudget(0), 1, 'alone after a gap: one entity at a time');
    assert.equal(a.claimBudget(1), 0);

    await beat(b);
    await beat(a, 1);
    assert.deepEqual(a.processingPods().sort(), ['a', 'b']);
    assert.ok(a.claimBudget(1) < 10, 'b is back: a share again');
  });

  it('leaves their share to the pods that are slower to come back', async () => {
    const { pods, spawnKey, beat, beatUntil, gap } = registry('slower', ['x', 'y', 'z']);
    const [x, y, z] = pods;
    // Past the start-up warm-up, beating on time.
    await beatUntil(pods, () => pods.every((p) => !p.warmingUp()), 'every pod past its warm-up');
    assert.equal(x.warmingUp(), false);

    // Redis was down: nobody could beat. x and y come back, z is slower; 9 entities wait.
    await gap();
    await redis.zadd(spawnKey, ...Array.from({ length: 9 }, (_, i) => [i, `e${i}`]).flat());
    await beat(x);
    await beat(y);
    await beat(x);
    assert.equal(x.warmingUp(), true);
    assert.deepEqual(x.processingPods().sort(), ['x', 'y']);
    const xTakes = (await redis.zpopmin(spawnKey, x.claimBudget(0))).length / 2;
    await beat(x, xTakes);
    await beat(y);
    const yTakes = (await redis.zpopmin(spawnKey, y.claimBudget(0))).length / 2;
    assert.ok(xTakes > 0 && yTakes > 0, `x ${xTakes}, y ${yTakes}`);
    assert.ok(xTakes + yTakes < 9, `x ${xTakes} + y ${yTakes} leave nothing for z`);

    await beat(z);
    assert.ok(z.claimBudget(0) > 0, 'z, back last, may still claim');
  });
});
