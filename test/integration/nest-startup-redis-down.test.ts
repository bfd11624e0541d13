/**
 * Nest bootstrap with Redis unreachable: `app.init()` (and so `app.listen()`) rejects with the
 * engine's RedisConnectionError within `startTimeoutMs`, instead of hanging, with no log line
 * per retry.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort } from '../../scripts/local-redis';
import { AtomicQueuesModule, JobHandler, RedisConnectionError, WorkerProcessor } from '../../src';
import { compileApp } from './nest-testing';

@WorkerProcessor({ entityType: 'order' })
class OrderProcessor {
  @JobHandler('*')
  any(): void {}
}

describe('Nest bootstrap with Redis down', () => {
  it('app.init() rejects with RedisConnectionError naming host:port', async () => {
    const port = await freePort();
    const t = await compileApp('startupRedisDown', {
      providers: [OrderProcessor],
      atomicModule: (prefix) =>
        AtomicQueuesModule.forRoot({
          redis: `redis://127.0.0.1:${port}`,
          keyPrefix: prefix,
          startTimeoutMs: 300,
        }),
    });
    try {
      await assert.rejects(
        t.app.init(),
        (err: unknown) =>
          err instanceof RedisConnectionError &&
          err.reason === 'refused' &&
          err.message.startsWith(
            `Cannot connect to Redis at 127.0.0.1:${port}: connection refused`,
          ),
      );
      const noisy = t.logger.lines.filter((l) => l.level === 'error' || l.level === 'warn');
      assert.deepEqual(noisy, [], 'no log line per retry');
    } finally {
      // Nest's close() replays the failed initialisation's error; nothing was started.
      await t.close().catch(() => undefined);
    }
  });
});
