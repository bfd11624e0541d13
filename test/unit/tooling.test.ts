import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { cleanPrefix, clientCount, newRedis, uniquePrefix } from '../helpers/redis';
import { mapLimit, sleep, until, waitFor } from '../../support/async';
import { seededRandom } from '../../support/random';

describe('waitFor', () => {
  test('throws the message once the deadline passes', async () => {
    const started = Date.now();
    await assert.rejects(
      waitFor(() => false, { timeoutMs: 100, intervalMs: 10, message: 'never true' }),
      /never true/,
    );
    assert.ok(Date.now() - started >= 100);
  });

  test('resolves as soon as the predicate becomes true', async () => {
    let calls = 0;
    await waitFor(() => Promise.resolve(++calls >= 3), { timeoutMs: 1_000, intervalMs: 5 });
    assert.equal(calls, 3);
  });

  test('words its message on timeout only, with the last error as the cause', async () => {
    let worded = 0;
    const failure = new Error('not yet');
    await assert.rejects(
      waitFor(
        () => {
          throw failure;
        },
        { timeoutMs: 50, intervalMs: 10, message: () => `worded ${++worded}` },
      ),
      (err: unknown) =>
        err instanceof Error && /worded 1$/.test(err.message) && err.cause === failure,
    );
    assert.equal(worded, 1);
  });
});

describe('until', () => {
  test('answers false once the deadline passes, true when the predicate holds', async () => {
    assert.equal(await until(() => false, { timeoutMs: 50, intervalMs: 10 }), false);
    let calls = 0;
    assert.equal(await until(() => ++calls === 2, { timeoutMs: 1_000, intervalMs: 5 }), true);
  });
});

describe('mapLimit', () => {
  test('keeps the input order with at most `parallel` calls in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([30, 10, 20, 0, 5], 2, async (ms, i) => {
      peak = Math.max(peak, ++inFlight);
      await sleep(ms);
      inFlight -= 1;
      return i;
    });
    assert.deepEqual(out, [0, 1, 2, 3, 4]);
    assert.equal(peak, 2);
  });
});

describe('seededRandom', () => {
  test('replays the same numbers in [0, 1) for the same seed', () => {
    const draw = (seed: number): number[] => {
      const next = seededRandom(seed);
      return Array.from({ length: 5 }, () => next());
    };
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
    assert.ok(draw(7).every((x) => x >= 0 && x < 1));
  });
});

describe('Redis at REDIS_URL', () => {
  let redis: Redis;
  before(() => {
    redis = newRedis({ connectionName: 'tooling-test' });
  });
  after(async () => {
    await redis.quit();
  });

  test('answers PING', async () => {
    assert.equal(await redis.ping(), 'PONG');
  });

  test('cleanPrefix removes only the keys of its prefix', async () => {
    const mine = uniquePrefix('tooling');
    const other = uniquePrefix('tooling');
    assert.notEqual(mine, other);
    await redis.mset(`${mine}:a`, '1', `${mine}:{tag}:b`, '2', `${other}:a`, '3', mine, '4');

    assert.equal(await cleanPrefix(redis, mine), 2);
    assert.equal(await redis.exists(`${mine}:a`, `${mine}:{tag}:b`), 0);
    assert.equal(await redis.get(`${other}:a`), '3');
    assert.equal(await redis.get(mine), '4', 'only `${prefix}:*` keys are removed');

    await redis.del(mine);
    await cleanPrefix(redis, other);
  });

  test('clientCount sees named connections', async () => {
    assert.equal(await clientCount(redis, 'tooling-test'), 1);
    assert.ok((await clientCount(redis)) >= 1);
  });
});
