/**
 * `startLocalRedis({ tls: true })` serves TLS only, with a certificate for 127.0.0.1 signed by
 * a CA of its own: a client that trusts `redis.tls.ca` connects, one that doesn't is refused
 * (the certificate can't be verified), and plain TCP gets no answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLocalRedis, type LocalRedis } from '../../scripts/local-redis';
import { connect, withClient } from './connect';

describe('a local Redis with TLS', () => {
  let redis: LocalRedis;

  before(async () => {
    redis = await startLocalRedis({ tls: true });
  });
  after(async () => {
    await redis?.stop();
  });

  it('serves rediss:// to a client that trusts its CA', async () => {
    assert.equal(redis.url, `rediss://127.0.0.1:${redis.port}`);
    assert.match(redis.tls?.ca ?? '', /^-----BEGIN CERTIFICATE-----/);
    const pong = await withClient(redis.url, { tls: { ca: redis.tls?.ca } }, (c) => c.ping());
    assert.equal(pong, 'PONG');
  });

  it('refuses a client that does not trust the CA', async () => {
    await assert.rejects(connect(redis.url), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
  });

  it('does not answer plain TCP', async () => {
    // The server drops the connection at the first bytes that are not TLS: connect() or the
    // PING fails, whichever meets the reset.
    await assert.rejects(withClient(`redis://127.0.0.1:${redis.port}`, {}, (c) => c.ping()));
  });
});
