/**
 * What a restarted local Redis keeps: nothing by default (no RDB, no AOF), so "Redis lost its
 * data" is a plain `restart()`; everything with `appendonly` + `appendfsync: 'always'`, even
 * after a SIGKILL; nothing again after `restart({ wipe: true })`.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { startLocalRedis, type LocalRedis } from '../../scripts/local-redis';
import { withClient } from './connect';

describe('restarting a local Redis', () => {
  let redis: LocalRedis | undefined;

  afterEach(async () => {
    await redis?.stop();
    redis = undefined;
  });

  /** Writes 100 keys, applies `between`, and returns how many are left. */
  async function keysLeftAfter(between: (server: LocalRedis) => Promise<void>): Promise<number> {
    await withClient(redis!.url, {}, async (writer) => {
      for (let i = 0; i < 100; i++) await writer.set(`persist:${i}`, String(i));
    });
    await between(redis!);
    return withClient(redis!.url, {}, (reader) => reader.dbsize());
  }

  it('loses every key without persistence', async () => {
    redis = await startLocalRedis();
    const pid = redis.pid;
    assert.equal(await keysLeftAfter((server) => server.restart()), 0);
    assert.notEqual(redis.pid, pid, 'a new process');
  });

  it('keeps every key with appendfsync always, even after kill -9', async () => {
    redis = await startLocalRedis({ appendonly: true, appendfsync: 'always' });
    const left = await keysLeftAfter(async (server) => {
      server.kill('SIGKILL');
      await server.restart();
    });
    assert.equal(left, 100);
  });

  it('loses every key with appendfsync always after restart({ wipe: true })', async () => {
    redis = await startLocalRedis({ appendonly: true, appendfsync: 'always' });
    assert.equal(await keysLeftAfter((server) => server.restart({ wipe: true })), 0);
  });
});
