/**
 * A TLS misconfiguration at start-up (the server's CA not trusted) fails at once with a
 * RedisConnectionError `tls` naming host:port; with the CA in `redis.tls`, the engine starts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLocalRedis, type LocalRedis } from '../../scripts/local-redis';
import { AtomicEngine } from '../../src';
import { startFailure } from '../fixtures/startup';

const TIMEOUT_MS = 20_000;

describe('start-up with a TLS misconfiguration', () => {
  let redis: LocalRedis;
  before(async () => {
    redis = await startLocalRedis({ tls: true });
  });
  after(() => redis?.stop());

  it('an untrusted certificate: `tls` at once', async () => {
    const engine = new AtomicEngine({
      redis: redis.url,
      startTimeoutMs: TIMEOUT_MS,
      logger: false,
    });
    const { error, elapsedMs } = await startFailure(engine);
    assert.equal(error.reason, 'tls');
    assert.match(
      error.message,
      new RegExp(
        `^Cannot connect to Redis at 127\\.0\\.0\\.1:${redis.port}: TLS handshake failed \\(self-signed certificate in certificate chain\\); check redis\\.tls`,
      ),
    );
    assert.ok(elapsedMs < TIMEOUT_MS / 4, `took ${elapsedMs} ms: it waited for the timeout`);
  });

  it('with the CA trusted, it starts', async () => {
    const engine = new AtomicEngine({
      redis: { host: '127.0.0.1', port: redis.port, tls: { ca: redis.tls?.ca } },
      logger: false,
    });
    await engine.start();
    await engine.stop();
  });
});
