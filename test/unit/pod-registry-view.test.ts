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

  it('warms up at start and again after a gap in its own beats, by its clock', async () => {
    const clock = new ManualClock(50_000);
    const entries: Record<string, string> = {};
    const client = {
      hset: (_k: string, pod: string, value: string) => (
        (entries[pod] = value),
        Promise.resolve(1)
      ),
      hgetall: () => Promise.resolve({ ...entries }),
      zcard: () => Promise.resolve(0),
      hdel: () => Promise.resolve(0),
    };
    const registry = new PodRegistry('pods', 'spawn', 'me', STALE, clock);
    const beat = () => registry.beat(client as never, 0, true);
    assert.equal(registry.warmingUp(), true, 'at start');
    await beat();
    for (let i = 0; i < 3; i++) {
      clock.advance(STALE / 2);
      await beat();
    }
    assert.equal(registry.warmingUp(), false, 'beating on time, past a stale limit after start');
    assert.equal(registry.claimBudget(0), Number.MAX_SAFE_INTEGER, 'alone and warm');
    clock.advance(STALE / 2);
    await beat();
    assert.equal(registry.warmingUp(), false, 'beats on time');
    clock.advance(STALE + 1);
    await beat();
    assert.equal(registry.warmingUp(), true, 'after a gap longer than the stale limit');
    assert.equal(registry.claimBudget(0), 1, 'alone while warming up: one at a time');
  });
});
