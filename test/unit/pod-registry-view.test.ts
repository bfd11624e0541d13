/** Reading the pod registry: which pods are live, recently stale, or gone, as of a given time. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock';
import { PodRegistry, readRegistry } from '../../src/core/placement/pod-registry';

const STALE = 1000;

describe('pod registry', () => {
  it('sorts entries into live, recently stale and gone by their age', () => {
    const now = 100_000;
    const view = readRegistry(
      {
        me: `2|1|${now}`,
        fresh: `4|1|${now - STALE}`,
        producer: `0|0|${now - 10}`,
        slow: `3|1|${now - STALE - 1}`,
        slowProducer: `0|0|${now - 2 * STALE}`,
        dead: `9|1|${now - 10 * STALE - 1}`,
      },
      'me',
      now,
      STALE,
    );
    assert.deepEqual([...view.peers.keys()].sort(), ['fresh', 'me', 'producer']);
    assert.deepEqual(view.peers.get('fresh'), { owned: 4, processing: true, seenAt: now - STALE });
    assert.equal(view.recentlyStale, 1, 'only the slow processing pod');
    assert.deepEqual(view.gone, ['dead']);
  });

  it('warms up at start and again after a gap in its own beats, by its clock', () => {
    const clock = new ManualClock(50_000);
    // Redis's clock is elsewhere (30 s ahead): only this pod's durations decide warming up.
    const redisNow = () => clock.now() + 30_000;
    const registry = new PodRegistry('pods', 'spawn', 'me', STALE, clock);
    const beat = () =>
      registry.observe({ now: redisNow(), pendingSpawns: 0, entries: { me: `0|1|${redisNow()}` } });
    assert.equal(registry.warmingUp(), true, 'at start');
    beat();
    for (let i = 0; i < 3; i++) {
      clock.advance(STALE / 2);
      beat();
    }
    assert.equal(registry.warmingUp(), false, 'beating on time, past a stale limit after start');
    assert.equal(registry.claimBudget(0), Number.MAX_SAFE_INTEGER, 'alone and warm');
    clock.advance(STALE / 2);
    beat();
    assert.equal(registry.warmingUp(), false, 'beats on time');
    clock.advance(STALE + 1);
    assert.equal(registry.recovering(), true, 'no beat answered for longer than the gap limit');
    assert.equal(registry.claimBudget(0), 0, 'cut off: claims nothing');
    beat();
    assert.equal(registry.warmingUp(), true, 'after a gap longer than the stale limit');
    assert.equal(registry.recovering(), true);
    assert.equal(registry.claimBudget(0), 0, 'back from a gap: nothing during the warm-up');
    for (let i = 0; i < 3; i++) {
      clock.advance(STALE / 2);
      beat();
    }
    assert.equal(registry.recovering(), false, 'past the warm-up');
    assert.equal(registry.claimBudget(0), Number.MAX_SAFE_INTEGER, 'alone and warm again');
  });

  it('counts a gap from the lease TTL, which may be shorter than the stale limit', () => {
    const clock = new ManualClock(0);
    const registry = new PodRegistry('pods', 'spawn', 'me', STALE, clock, STALE / 2);
    const beat = () =>
      registry.observe({
        now: clock.now(),
        pendingSpawns: 0,
        entries: { me: `0|1|${clock.now()}` },
      });
    for (let i = 0; i < 4; i++) {
      clock.advance(STALE / 3);
      beat();
    }
    assert.equal(registry.recovering(), false);
    clock.advance(STALE / 2 + 1);
    beat();
    assert.equal(registry.recovering(), true, 'leases may have expired in that gap');
  });

  it('judges other pods by Redis’s clock alone', () => {
    const clock = new ManualClock(0); // this pod's clock is far behind Redis's
    const registry = new PodRegistry('pods', 'spawn', 'me', STALE, clock);
    const now = 1_800_000_000_000;
    registry.observe({
      now,
      pendingSpawns: 3,
      entries: { me: `0|1|${now}`, peer: `4|1|${now - 10}`, old: `9|1|${now - 2 * STALE}` },
    });
    assert.deepEqual(registry.processingPods().sort(), ['me', 'peer']);
  });

  it("estimates Redis's clock never behind it, whenever in the round trip Redis read it", () => {
    // Redis is 30 s ahead; a beat's round trip takes 20 ms, and Redis reads its clock anywhere in
    // it. A delayed job's timestamp comes from this estimate: behind Redis, the job would run
    // before its delay.
    for (const readAfterMs of [0, 10, 20]) {
      const clock = new ManualClock(50_000);
      const registry = new PodRegistry('pods', 'spawn', 'me', STALE, clock);
      const sentAt = clock.now();
      const redisRead = sentAt + readAfterMs + 30_000;
      clock.advance(20);
      registry.observe({ now: redisRead, pendingSpawns: 0, entries: {} }, sentAt);
      const trueRedisNow = clock.now() + 30_000;
      const estimate = registry.redisNow();
      assert.ok(
        estimate >= trueRedisNow,
        `read after ${readAfterMs} ms: ${estimate - trueRedisNow}`,
      );
      assert.ok(estimate - trueRedisNow <= 20, 'ahead by at most the round trip');
    }
  });
});
