/**
 * A Cluster is recognized by its shape, not by `instanceof`: with ioredis as a peer dependency,
 * the app's client may come from another copy of ioredis than the one the engine loads.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { isCluster, type RedisClient } from '../../src/redis/connections';

/** ioredis loaded a second time, as a nested or workspace copy would be: other classes. */
function otherCopyOfIoredis(): typeof import('ioredis') {
  const cached = Object.keys(require.cache).filter((k) => k.includes('/node_modules/ioredis/'));
  const saved = cached.map((k) => [k, require.cache[k]] as const);
  for (const k of cached) delete require.cache[k];
  try {
    return createRequire(__filename)('ioredis') as typeof import('ioredis');
  } finally {
    for (const [k, m] of saved) require.cache[k] = m;
  }
}

describe('isCluster', () => {
  const lazy = { lazyConnect: true };

  it('tells a Cluster from a Redis', () => {
    assert.equal(isCluster(new Cluster([{ host: '127.0.0.1', port: 1 }], lazy)), true);
    assert.equal(isCluster(new Redis(lazy)), false);
  });

  it('recognizes a Cluster made by another copy of ioredis, where instanceof fails', () => {
    const other = otherCopyOfIoredis();
    assert.notEqual(other.Cluster, Cluster);
    const cluster = new other.Cluster([{ host: '127.0.0.1', port: 1 }], lazy);
    assert.equal(cluster instanceof Cluster, false);
    assert.equal(isCluster(cluster as unknown as RedisClient), true);
    assert.equal(isCluster(new other.Redis(lazy) as unknown as RedisClient), false);
  });
});
