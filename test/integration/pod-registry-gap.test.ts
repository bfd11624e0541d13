/**
 * After Redis comes back from an outage (or a paused pod resumes), every pod's registry entry is
 * stale: nobody could beat. The first pod to beat again must not conclude it is alone and take
 * every entity with work (nothing moves them back until they idle out): it warms up again, as
 * at start, claiming one entity at a time while it sees no other pod, and no more than an even
 * share counting the pods that went stale recently, leaving the rest to the spawn set.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PodRegistry } from '../../src/core/pod-registry';
import { sleep } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';

const STALE_MS = 400;

describe('pod registry after a gap in its heartbeats', () => {
  const { prefix, redis } = integrationSuite('podRegistryGap');
  const podsKey = `${prefix}:pods`;
  const spawnKey = `${prefix}:spawn`;

  it('warms up again instead of claiming everything as the only live pod', async () => {
    const a = new PodRegistry(podsKey, spawnKey, 'a', STALE_MS);
    const b = new PodRegistry(podsKey, spawnKey, 'b', STALE_MS);
    await a.beat(redis, 0, true);
    await b.beat(redis, 0, true);
    await a.beat(redis, 0, true);
    assert.ok(a.claimBudget(0) > 0 && a.claimBudget(0) < 10, 'two pods: a share, not all');

    // Past the start-up warm-up, beating on time while b is gone: a is alone and may claim all.
    for (let t = 0; t < 4; t++) {
      await sleep(STALE_MS * 0.3);
      await a.beat(redis, 0, true);
    }
    assert.equal(a.warmingUp(), false);
    assert.equal(a.claimBudget(0), Number.MAX_SAFE_INTEGER, 'b stopped beating: a is alone');

    // Neither could beat for longer than the stale limit (Redis was down). b's entry is stale
    // when a beats first, which proves nothing: a claims one at a time until b could show up.
    await sleep(STALE_MS * 1.5);
    await a.beat(redis, 0, true);
    assert.equal(a.warmingUp(), true);
    assert.equal(a.claimBudget(0), 1, 'alone after a gap: one entity at a time');
    assert.equal(a.claimBudget(1), 0);

    await b.beat(redis, 0, true);
    await a.beat(redis, 1, true);
    assert.deepEqual(a.processingPods().sort(), ['a', 'b']);
    assert.ok(a.claimBudget(1) < 10, 'b is back: a share again');
  });

  it('leaves their share to the pods that are slower to come back', async () => {
    const pods = ['x', 'y', 'z'].map((id) => new PodRegistry(podsKey, spawnKey, id, STALE_MS));
    const [x, y, z] = pods;
    // Past the start-up warm-up, beating on time.
    for (let t = 0; t < 5; t++) {
      for (const p of pods) await p.beat(redis, 3, true);
      await sleep(STALE_MS * 0.3);
    }
    assert.equal(x.warmingUp(), false);

    // Redis was down: nobody could beat. x and y come back, z is slower; 9 entities wait.
    await sleep(STALE_MS * 1.5);
    await redis.zadd(spawnKey, ...Array.from({ length: 9 }, (_, i) => [i, `e${i}`]).flat());
    await x.beat(redis, 0, true);
    await y.beat(redis, 0, true);
    await x.beat(redis, 0, true);
    assert.equal(x.warmingUp(), true);
    assert.deepEqual(x.processingPods().sort(), ['x', 'y']);
    const xTakes = (await redis.zpopmin(spawnKey, x.claimBudget(0))).length / 2;
    await x.beat(redis, xTakes, true);
    await y.beat(redis, 0, true);
    const yTakes = (await redis.zpopmin(spawnKey, y.claimBudget(0))).length / 2;
    assert.ok(xTakes > 0 && yTakes > 0, `x ${xTakes}, y ${yTakes}`);
    assert.ok(xTakes + yTakes < 9, `x ${xTakes} + y ${yTakes} leave nothing for z`);

    await z.beat(redis, 0, true);
    assert.ok(z.claimBudget(0) > 0, 'z, back last, may still claim');
  });
});
