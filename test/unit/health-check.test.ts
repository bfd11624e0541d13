/**
 * `engine.health()`'s verdict from what the pod reports (Redis PING, when its loops last came
 * round), under a manual clock: ready, live, and the reasons when not.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/core/clock';
import {
  checkHealth,
  type HealthContext,
  type LoopTimes,
  type PodProbe,
} from '../../src/core/observability/health';

const TTL = 3000;

function setup(state = 'started') {
  const clock = new ManualClock(1_000_000);
  const times: LoopTimes = {
    heartbeatTickAt: clock.now(),
    leasesRenewedAt: clock.now(),
    dispatcherTickAt: clock.now(),
  };
  let redisDown: string | undefined;
  const probe: PodProbe = {
    ping: (timeoutMs) =>
      redisDown === undefined
        ? Promise.resolve(0.4)
        : Promise.reject(new Error(redisDown.replace('{t}', String(timeoutMs)))),
    loopTimes: () => ({ ...times }),
    held: () => 7,
  };
  const ctx: HealthContext = {
    podId: 'p1',
    clock,
    leaseTtlMs: TTL,
    state: () => state,
    pod: () => (state === 'started' ? probe : undefined),
  };
  return {
    clock,
    times,
    ctx,
    redisFails(message: string | undefined) {
      redisDown = message;
    },
  };
}

describe('health verdict', () => {
  test('a started pod with Redis answering and fresh loops is up', async () => {
    const { ctx, clock } = setup();
    clock.advance(800);
    const h = await checkHealth(ctx);
    assert.equal(h.status, 'up');
    assert.equal(h.ready, true);
    assert.equal(h.live, true);
    assert.deepEqual(h.reasons, []);
    assert.deepEqual(h.redis, { status: 'up', latencyMs: 0.4 });
    assert.deepEqual(h.leases, { status: 'up', held: 7, renewedAgoMs: 800, ttlMs: TTL });
    assert.equal(h.loops.heartbeat.status, 'up');
    assert.equal(h.loops.dispatcher?.status, 'up');
  });

  test('Redis unreachable: not ready, still live (a restart would not help), with the reason', async () => {
    const s = setup();
    s.redisFails('no answer to PING within {t} ms');
    s.clock.advance(10_000); // the loops wait on Redis meanwhile
    const h = await checkHealth(s.ctx, { timeoutMs: 250 });
    assert.equal(h.status, 'down');
    assert.equal(h.ready, false);
    assert.equal(h.live, true);
    assert.equal(h.redis.status, 'down');
    assert.equal(h.redis.error, 'no answer to PING within 250 ms');
    assert.ok(
      h.reasons.includes('Redis unreachable: no answer to PING within 250 ms'),
      h.reasons.join(),
    );
    assert.ok(
      h.reasons.some((r) => /heartbeat loop waiting for Redis/.test(r)),
      h.reasons.join(),
    );
    assert.equal(h.leases.status, 'down');
  });

  test('leases not renewed within their TTL: not ready', async () => {
    const s = setup();
    s.clock.advance(TTL + 1);
    s.times.heartbeatTickAt = s.clock.now(); // the loop turns, but its renewals fail
    s.times.dispatcherTickAt = s.clock.now();
    const h = await checkHealth(s.ctx);
    assert.equal(h.ready, false);
    assert.equal(h.live, true);
    assert.deepEqual(h.reasons, [`leases last renewed ${TTL + 1} ms ago (TTL ${TTL} ms)`]);
  });

  test('a loop stuck while Redis answers: not live', async () => {
    const s = setup();
    s.clock.advance(6000);
    s.times.heartbeatTickAt = s.times.leasesRenewedAt = s.clock.now();
    const h = await checkHealth(s.ctx);
    assert.equal(h.live, false);
    assert.equal(h.ready, true);
    assert.equal(h.status, 'down');
    assert.equal(h.loops.dispatcher?.status, 'down');
    assert.equal(h.loops.dispatcher?.staleAfterMs, 5000);
    assert.deepEqual(h.reasons, ['dispatcher loop stuck: last round 6000 ms ago']);
  });

  test('a producer-only pod has no dispatcher to check', async () => {
    const s = setup();
    delete s.times.dispatcherTickAt;
    const h = await checkHealth(s.ctx);
    assert.equal(h.status, 'up');
    assert.equal(h.loops.dispatcher, undefined);
  });

  test('an engine not started is down, not ready, and live', async () => {
    for (const state of ['new', 'starting', 'stopping', 'stopped']) {
      const h = await checkHealth(setup(state).ctx);
      assert.equal(h.status, 'down', state);
      assert.equal(h.ready, false, state);
      assert.equal(h.live, true, state);
      assert.deepEqual(h.reasons, [`engine ${state}`]);
    }
  });
});
