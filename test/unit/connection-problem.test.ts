/**
 * Connection errors are sorted into the causes RedisConnectionError names (refused, timeout,
 * auth, tls, dns, closed), from their code and message only: the AUTH command's arguments that
 * ioredis attaches to the error never reach the description.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectionProblem } from '../../src/redis/connection-problem';

const err = (message: string, fields: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), fields);

describe('connectionProblem', () => {
  const cases: [error: unknown, reason: string, fatal: boolean][] = [
    [err('connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' }), 'refused', false],
    [err('connect ETIMEDOUT', { code: 'ETIMEDOUT' }), 'timeout', false],
    [err('getaddrinfo ENOTFOUND redis', { code: 'ENOTFOUND' }), 'dns', false],
    [err('read ECONNRESET', { code: 'ECONNRESET' }), 'closed', false],
    [err('WRONGPASS invalid username-password pair'), 'auth', true],
    [err('NOAUTH Authentication required.'), 'auth', true],
    [err('Ready check failed: NOPERM this user has no permissions'), 'auth', true],
    [
      err('self-signed certificate in certificate chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
      'tls',
      true,
    ],
    [err('wrong version number', { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }), 'tls', true],
    [
      err('Failed to refresh slots cache.', {
        lastNodeError: err('connect ECONNREFUSED', { code: 'ECONNREFUSED' }),
      }),
      'refused',
      false,
    ],
    [err('ERR unknown'), 'error', false],
  ];
  for (const [error, reason, fatal] of cases) {
    it(`${(error as Error).message} → ${reason}`, () => {
      const problem = connectionProblem(error);
      assert.equal(problem.reason, reason);
      assert.equal(problem.fatal, fatal);
    });
  }

  it('describes from the message, not from the command ioredis attached', () => {
    const problem = connectionProblem(
      err('WRONGPASS invalid username-password pair or user is disabled.', {
        command: { name: 'auth', args: ['s3cret'] },
      }),
    );
    assert.equal(
      problem.description,
      'authentication failed (WRONGPASS invalid username-password pair or user is disabled.)',
    );
  });
});
