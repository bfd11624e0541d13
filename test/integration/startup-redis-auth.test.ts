/**
 * Redis refusing the credentials at start-up: `start()` fails at once (well before
 * `startTimeoutMs`, since retrying can't fix it) with a RedisConnectionError `auth` naming
 * host:port, never the password (not in the message, not anywhere in the error object), logs
 * nothing, and leaves no connection behind (CLIENT LIST).
 */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { startLocalRedis, type LocalRedis } from '../../scripts/local-redis';
import { AtomicEngine, type AtomicQueuesOptions } from '../../src';
import { startFailure } from '../fixtures/startup';
import { clientCount } from '../helpers/redis';
import { waitFor } from '../../support/async';
import { connect } from '../redis-infra/connect';
import { RecordingLogger } from './nest-testing';

const SECRET = 'the-right-secret';
const WRONG = 'a-wrong-secret';
/** Far above what a refusal takes: a start that waits for it has not failed at once. */
const TIMEOUT_MS = 20_000;

describe('start-up with credentials Redis refuses', () => {
  let redis: LocalRedis;
  let admin: Redis;
  before(async () => {
    redis = await startLocalRedis({ requirepass: SECRET });
    admin = await connect(redis.url, { password: SECRET });
  });
  after(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  const cases: [name: string, redis: () => AtomicQueuesOptions['redis'], message: RegExp][] = [
    [
      'a wrong password',
      () => ({ host: '127.0.0.1', port: redis.port, password: WRONG }),
      /: authentication failed \(WRONGPASS [^)]*\); check the credentials/,
    ],
    [
      'a wrong password in the URL',
      () => `redis://:${WRONG}@127.0.0.1:${redis.port}`,
      /: authentication failed \(WRONGPASS /,
    ],
    ['no password where one is required', () => redis.url, /: authentication failed \(NOAUTH /],
  ];
  for (const [name, options, message] of cases) {
    it(`${name}: \`auth\` at once, no secret shown, nothing left open`, async () => {
      const logger = new RecordingLogger();
      const engine = new AtomicEngine({ redis: options(), startTimeoutMs: TIMEOUT_MS, logger });
      const { error, elapsedMs } = await startFailure(engine);
      assert.equal(error.reason, 'auth');
      assert.equal(error.target, `127.0.0.1:${redis.port}`);
      assert.ok(
        error.message.startsWith(`Cannot connect to Redis at 127.0.0.1:${redis.port}: `),
        error.message,
      );
      assert.match(error.message, message);
      assert.ok(elapsedMs < TIMEOUT_MS / 4, `took ${elapsedMs} ms: it waited for the timeout`);
      const shown = inspect(error, { depth: 10, showHidden: true });
      assert.ok(!shown.includes(WRONG) && !shown.includes(SECRET), shown);
      assert.deepEqual(logger.lines, [], 'nothing logged');
      await waitFor(async () => (await clientCount(admin)) === 1, {
        message: 'only the test’s own connection is left (CLIENT LIST)',
      });
    });
  }

  it('the right password starts (the refusals above were about the password)', async () => {
    const engine = new AtomicEngine({
      redis: { host: '127.0.0.1', port: redis.port, password: SECRET },
      startTimeoutMs: TIMEOUT_MS,
      logger: false,
    });
    await engine.start();
    await engine.stop();
  });
});
