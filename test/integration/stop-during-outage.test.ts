/**
 * `stop()` around a Redis outage, on a real Redis the test kills. With Redis gone, stop gives up
 * after `stopTimeoutMs` and says so, instead of waiting for good. With Redis back, stop hands the
 * leases back even while the blocking connection is still waiting to reconnect (ioredis leaves
 * that connection's blocking pop pending forever when it is closed then: the engine's stop hung on
 * it in CI).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import IORedis from 'ioredis';
import { AtomicEngine } from '../../src';
import { startLocalRedis, type LocalRedis } from '../../scripts/local-redis';
import { waitFor } from '../../support/async';
import { leaseKey } from '../fixtures/queue-state';

const TYPE = 'account';
const PREFIX = 'stopOutage';

/** Rejects when `work` has not settled within `ms`: a stop that hangs fails the test. */
async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('stop() around a Redis outage', () => {
  let redis: LocalRedis | undefined;
  let engine: AtomicEngine | undefined;

  afterEach(async () => {
    await engine?.stop();
    await redis?.stop();
    engine = redis = undefined;
  });

  async function started(stopTimeoutMs: number): Promise<{ errors: [Error, string][] }> {
    redis = await startLocalRedis();
    const errors: [Error, string][] = [];
    engine = new AtomicEngine({
      redis: redis.url,
      keyPrefix: PREFIX,
      podId: 'stop-pod',
      stopTimeoutMs,
      logger: false,
      workerDefaults: { heartbeatTTL: 1.5 },
      entities: { [TYPE]: { idleTimeoutSeconds: 60 } },
    });
    engine.registerHandler(TYPE, () => 'ok');
    engine.on('error', (error, context) => errors.push([error, context]));
    await engine.start();
    await engine.enqueueAndWait(TYPE, 'a1', 'op', {});
    return { errors };
  }

  async function killRedis(): Promise<void> {
    const lost = new Promise((resolve) => engine!.once('redis:lost', resolve));
    redis!.kill('SIGKILL');
    await within(lost, 5_000, 'redis:lost');
  }

  it('with Redis gone, gives up after stopTimeoutMs and reports it', async () => {
    const { errors } = await started(1_000);
    await killRedis();
    const t0 = Date.now();
    await within(engine!.stop(), 8_000, 'stop() with Redis gone');
    assert.ok(Date.now() - t0 >= 1_000, 'stop waited stopTimeoutMs for Redis first');
    assert.equal(engine!.isStarted(), false);
    const report = errors.find(([, context]) => context === 'stopping');
    assert.ok(report, `an error event for the stop; got ${JSON.stringify(errors)}`);
    assert.match(
      report[0].message,
      /^Redis unreachable for 1000 ms \(stopTimeoutMs\): stopped without handing back 1 entities/,
    );
  });

  it('right after Redis is back, while a connection may still be reconnecting', async () => {
    const { errors } = await started(60_000);
    await killRedis();
    // Redis is back, the engine's connections are still waiting out their reconnection delays.
    await redis!.restart();
    await within(engine!.stop(), 8_000, 'stop() right after the outage');
    assert.equal(engine!.isStarted(), false);
    assert.deepEqual(
      errors.filter(([, context]) => context === 'stopping'),
      [],
      'nothing to report',
    );
  });

  it('after an outage, hands back the leases it took since', async () => {
    const { errors } = await started(60_000);
    await killRedis();
    await redis!.restart(); // without persistence: the old lease is gone with the data
    // Holds an entity in the new Redis: its lease must be gone after the stop.
    await within(engine!.enqueueAndWait(TYPE, 'a2', 'op', {}), 15_000, 'a job after the outage');
    const check = new IORedis(redis!.url);
    try {
      assert.equal(await check.exists(leaseKey(PREFIX, TYPE, 'a2')), 1, 'a2 is held');
      await within(engine!.stop(), 8_000, 'stop() after the outage');
      assert.equal(await check.exists(leaseKey(PREFIX, TYPE, 'a2')), 0, 'a2 was released');
      await waitFor(
        async () => !String(await check.call('CLIENT', 'LIST')).includes(`${PREFIX}:aq:stop-pod`),
        { timeoutMs: 5_000, message: "the pod's connections closed" },
      );
    } finally {
      check.disconnect();
    }
    assert.deepEqual(
      errors.filter(([, context]) => context === 'stopping'),
      [],
      'nothing to report',
    );
  });
});
