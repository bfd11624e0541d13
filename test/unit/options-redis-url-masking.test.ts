/**
 * A bad `redis` URL is named in the error without its credentials, whatever characters the
 * password holds, and without the query string (ioredis reads `?password=` too).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionsError } from '../../src';
import { resolveOptions } from '../../src/core/options/resolve-options';

function invalidRedis(redis: string): InvalidOptionsError {
  try {
    resolveOptions({ redis });
  } catch (err) {
    assert.ok(err instanceof InvalidOptionsError, String(err));
    assert.equal(err.option, 'redis');
    return err;
  }
  assert.fail(`${redis} was accepted`);
}

describe('redis URL in InvalidOptionsError', () => {
  const cases: [url: string, secret: string, shown: string][] = [
    ['http://user:s3cret@redis:6379', 's3cret', 'http://***@redis:6379'],
    ['http://:pa/ss@redis:6379', 'pa/ss', 'http://***@redis:6379'],
    ['http://:p@ss@redis:6379/0', 'p@ss', 'http://***@redis:6379/0'],
    ['user:s3cret@redis:6379', 's3cret', '***@redis:6379'],
    ['tcp://redis:6379/?password=s3cret', 's3cret', 'tcp://redis:6379/?***'],
  ];
  for (const [url, secret, shown] of cases) {
    it(`masks ${shown}`, () => {
      const err = invalidRedis(url);
      assert.ok(!err.message.includes(secret), err.message);
      assert.ok(err.message.includes(shown), err.message);
      assert.equal(err.received, shown);
    });
  }
});
