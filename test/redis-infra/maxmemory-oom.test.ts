/**
 * `startLocalRedis({ maxmemory })` sets a memory limit with `noeviction`: writes succeed until
 * it is reached, then fail with Redis's OOM error and no key is evicted; deleting keys frees
 * room for writes again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { startLocalRedis, type LocalRedis } from '../../scripts/local-redis';
import { connect } from './connect';

const VALUE = 'x'.repeat(64 * 1024);
/** 64 KiB × 400 = 25 MiB, far above the limit: the loop ends with an OOM or the test fails. */
const MAX_WRITES = 400;

describe('a local Redis with maxmemory', () => {
  let redis: LocalRedis;
  let client: Redis;

  before(async () => {
    redis = await startLocalRedis({ maxmemory: '4mb' });
    client = await connect(redis.url);
  });
  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it('refuses writes with OOM once full, and evicts nothing', async () => {
    assert.deepEqual(await client.config('GET', 'maxmemory-policy'), [
      'maxmemory-policy',
      'noeviction',
    ]);
    let written = 0;
    let refusal: unknown;
    for (; written < MAX_WRITES && refusal === undefined; written++) {
      await client.set(`oom:${written}`, VALUE).catch((err: unknown) => (refusal = err));
    }
    assert.ok(refusal instanceof Error, `a write was refused within ${MAX_WRITES} writes`);
    assert.match(refusal.message, /^OOM command not allowed/);
    assert.ok(written > 1, 'writes succeeded before the limit');
    assert.equal(await client.dbsize(), written - 1, 'every accepted key is still there');

    await client.del(...Array.from({ length: written - 1 }, (_, i) => `oom:${i}`));
    assert.equal(await client.set('oom:again', VALUE), 'OK', 'room again once keys are deleted');
  });
});
