/**
 * `engine.health()` on a real Redis that the test stops: up while Redis answers; down (not
 * ready, still live) with the reason while it is frozen (SIGSTOP: the PING times out) or gone
 * (SIGKILL: the connection is down); up again once it is back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AtomicEngine, type EngineHealth } from '../../src';
import { startLocalRedis, type LocalRedis } from '../../scripts/local-redis';
import { waitFor } from '../../support/async';

describe('health through a Redis outage', () => {
  let redis: LocalRedis;
  let engine: AtomicEngine;

  before(async () => {
    redis = await startLocalRedis();
    engine = new AtomicEngine({
      redis: redis.url,
      keyPrefix: 'health',
      podId: 'health-pod',
      workerDefaults: { heartbeatTTL: 1.5 },
      entities: { account: { idleTimeoutSeconds: 60 } },
    });
    engine.registerHandler('account', () => 'ok');
    engine.on('error', () => undefined); // the outage's connection errors
    await engine.start();
    await engine.enqueueAndWait('account', 'a1', 'op', {});
  });

  after(async () => {
    await engine?.stop();
    await redis?.stop();
  });

  const upAgain = async (): Promise<void> => {
    let last: EngineHealth | undefined;
    await waitFor(async () => (last = await engine.health()).status === 'up', {
      timeoutMs: 20_000,
      message: () => `health up again; last: ${JSON.stringify(last)}`,
    });
  };

  test('up while Redis answers: ready, live, the details', async () => {
    const h = await engine.health();
    assert.equal(h.status, 'up', JSON.stringify(h));
    assert.equal(h.ready, true);
    assert.equal(h.live, true);
    assert.equal(h.podId, 'health-pod');
    assert.equal(h.state, 'started');
    assert.deepEqual(h.reasons, []);
    assert.equal(h.redis.status, 'up');
    assert.ok(typeof h.redis.latencyMs === 'number' && h.redis.latencyMs >= 0);
    assert.equal(h.leases.status, 'up');
    assert.equal(h.leases.held, 1);
    assert.equal(h.leases.ttlMs, 1500);
    assert.ok(h.leases.renewedAgoMs !== null && h.leases.renewedAgoMs < 1500);
    assert.equal(h.loops.heartbeat.status, 'up');
    assert.equal(h.loops.dispatcher?.status, 'up');
  });

  test('Redis frozen: down, not ready, still live; the PING timed out', async () => {
    redis.kill('SIGSTOP');
    let h: EngineHealth;
    try {
      h = await engine.health({ timeoutMs: 300 });
      // Long enough for the leases to go past their TTL unrenewed.
      await waitFor(
        async () => (h = await engine.health({ timeoutMs: 300 })).leases.status === 'down',
        {
          timeoutMs: 10_000,
          message: 'leases past their TTL',
        },
      );
    } finally {
      redis.kill('SIGCONT');
    }
    assert.equal(h.status, 'down');
    assert.equal(h.ready, false);
    assert.equal(h.live, true, 'waiting on Redis is not stuck');
    assert.equal(h.redis.status, 'down');
    assert.equal(h.redis.error, 'no answer to PING within 300 ms');
    assert.ok(
      h.reasons.includes('Redis unreachable: no answer to PING within 300 ms'),
      h.reasons.join('; '),
    );
    assert.ok(
      h.reasons.some((r) => r.startsWith('leases last renewed')),
      h.reasons.join('; '),
    );
    await upAgain();
  });

  test('Redis gone: down with the connection state; up again once it is back', async () => {
    redis.kill('SIGKILL');
    await waitFor(async () => (await engine.health()).redis.status === 'down', {
      timeoutMs: 5_000,
      message: 'the connection noticed Redis is gone',
    });
    const h = await engine.health();
    assert.equal(h.status, 'down');
    assert.equal(h.ready, false);
    assert.equal(h.live, true);
    assert.match(h.redis.error ?? '', /^connection (reconnecting|connecting|close|end)$/);
    assert.ok(
      h.reasons.some((r) => /^Redis unreachable: connection /.test(r)),
      h.reasons.join('; '),
    );
    await redis.restart();
    await upAgain();
  });

  test('a stopped engine is down', async () => {
    await engine.stop();
    const h = await engine.health();
    assert.equal(h.status, 'down');
    assert.equal(h.state, 'stopped');
    assert.deepEqual(h.reasons, ['engine stopped']);
  });
});
