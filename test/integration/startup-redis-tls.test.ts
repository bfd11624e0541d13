/**
 * A TLS misconfiguration at start-up (the server's CA not trusted) fails at once with a
 * RedisConnectionError `tls` naming host:port; with the CA in `redis.tls`, the engine starts and
 * runs jobs over TLS (enqueue, the claim, the runner, enqueueAndWait's reply channel).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from 'bullmq';
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

  it('with the CA trusted, it starts and runs jobs over TLS', async () => {
    // The server serves TLS only (test/redis-infra/tls.test.ts): every command below went over it.
    const engine = new AtomicEngine({
      redis: { host: '127.0.0.1', port: redis.port, tls: { ca: redis.tls?.ca } },
      keyPrefix: 'tlsjobs',
      logger: false,
      entities: { acct: {} },
    });
    const errors: string[] = [];
    engine.on('error', (err: Error, context: string) => errors.push(`${context}: ${err.message}`));
    const ran: number[] = [];
    engine.registerHandler('acct', (job: Job) => {
      const { n } = job.data as { n: number };
      ran.push(n);
      return Promise.resolve(n * 2);
    });
    await engine.start();
    try {
      for (let n = 0; n < 5; n++) await engine.enqueue('acct', 'a', 'op', { n });
      assert.equal(await engine.enqueueAndWait('acct', 'a', 'op', { n: 5 }), 10);
      assert.deepEqual(ran, [0, 1, 2, 3, 4, 5]);
      assert.deepEqual(errors, []);
    } finally {
      await engine.stop();
    }
  });
});
