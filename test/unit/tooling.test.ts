import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { cleanPrefix, clientCount, newRedis, uniquePrefix } from '../helpers/redis';
import { waitFor } from '../helpers/wait-for';

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
