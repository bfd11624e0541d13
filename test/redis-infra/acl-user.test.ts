/**
 * ACL on a local Redis: a user made with `aclRuleFor` reads and writes keys under its prefix and
 * is refused (NOPERM) everywhere else; with `defaultUser: 'off'` an unauthenticated connection
 * can do nothing; `requirepass` protects the default user.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { aclRuleFor, startLocalRedis, type LocalRedis } from '../../scripts/local-redis';
import { connect, withClient } from './connect';

describe('aclRuleFor', () => {
  it('confines keys and channels to the prefix, escaping glob characters', () => {
    assert.equal(
      aclRuleFor({ keyPrefix: 'app', commands: ['@read', '+@write', '-keys'] }),
      'resetkeys ~app:* resetchannels &app:* -@all +@read +@write -keys',
    );
    assert.equal(
      aclRuleFor({ keyPrefix: 'a*b', commands: ['get'], channels: [] }),
      'resetkeys ~a\\*b:* resetchannels -@all +get',
    );
  });

  it('rejects what would break the rule line', () => {
    assert.throws(() => aclRuleFor({ keyPrefix: 'my app', commands: ['get'] }), /`keyPrefix`/);
    assert.throws(() => aclRuleFor({ keyPrefix: 'app', commands: [] }), /`commands`/);
  });
});

describe('a local Redis with ACL users', () => {
  let redis: LocalRedis;
  let app: Redis;
  let admin: Redis;

  before(async () => {
    redis = await startLocalRedis({
      defaultUser: 'off',
      aclUsers: [
        {
          name: 'app',
          password: 'app-secret',
          // @write alone would allow FLUSHALL (a keyless write): -@dangerous takes it back.
          rules: aclRuleFor({
            keyPrefix: 'app',
            commands: ['@read', '@write', '-@dangerous', '@connection'],
          }),
        },
        { name: 'admin', password: 'admin-secret', rules: '~* &* +@all' },
      ],
    });
    app = await connect(redis.url, { username: 'app', password: 'app-secret' });
    admin = await connect(redis.url, { username: 'admin', password: 'admin-secret' });
  });
  after(async () => {
    app?.disconnect();
    admin?.disconnect();
    await redis?.stop();
  });

  it('lets the user touch keys under its prefix', async () => {
    assert.equal(await app.set('app:1', 'mine'), 'OK');
    assert.equal(await app.get('app:1'), 'mine');
    assert.equal(await app.del('app:1'), 1);
  });

  it('refuses the user any other key or command', async () => {
    await assert.rejects(app.set('other:1', 'x'), { message: /^NOPERM/ });
    await assert.rejects(app.get('other:1'), { message: /^NOPERM/ });
    await assert.rejects(app.flushall(), { message: /^NOPERM/ });
    await assert.rejects(app.config('GET', 'maxmemory'), { message: /^NOPERM/ });
    assert.equal(await admin.exists('other:1'), 0, 'the refused write did not happen');
  });

  it('refuses a connection that does not authenticate', async () => {
    await withClient(redis.url, {}, (anonymous) =>
      assert.rejects(anonymous.ping(), { message: /^NOAUTH/ }),
    );
  });
});

describe('a local Redis with requirepass', () => {
  let redis: LocalRedis;

  before(async () => {
    redis = await startLocalRedis({ requirepass: 'secret' });
  });
  after(async () => {
    await redis?.stop();
  });

  it('serves the default user only with the password', async () => {
    await withClient(redis.url, {}, (anonymous) =>
      assert.rejects(anonymous.ping(), { message: /^NOAUTH/ }),
    );
    await assert.rejects(connect(redis.url, { password: 'wrong' }), { message: /^WRONGPASS/ });
    const set = await withClient(redis.url, { password: 'secret' }, (c) => c.set('any:key', 'v'));
    assert.equal(set, 'OK');
  });
});
