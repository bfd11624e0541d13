/**
 * A Redis outage after start-up is one warning when it starts and one line when it ends (with
 * how long Redis was down), not a line per reconnection attempt: each pod emits `redis:lost`
 * once and `redis:restored` once per outage, whatever its connections (its own, a client passed
 * in, Nest's module with Nest's Logger), and keeps working after.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startLocalRedis, type LocalRedis } from '../../scripts/local-redis';
import {
  AtomicEngine,
  AtomicQueuesModule,
  type AtomicQueuesOptions,
  type RedisLostEvent,
  type RedisRestoredEvent,
} from '../../src';
import { enginePrefix } from '../fixtures/engines';
import { waitFor } from '../../support/async';
import { compileApp, engineOf, RecordingLogger, type TestApp } from './nest-testing';

const TYPE = 'counter';
const WAIT = { timeoutMs: 15_000 };

/** One pod under watch: its events and what it logged. */
interface Watched {
  name: string;
  engine: AtomicEngine;
  logger: RecordingLogger;
  lost: RedisLostEvent[];
  restored: RedisRestoredEvent[];
}

function watch(name: string, engine: AtomicEngine, logger: RecordingLogger): Watched {
  const pod: Watched = { name, engine, logger, lost: [], restored: [] };
  engine.on('redis:lost', (e) => pod.lost.push(e));
  engine.on('redis:restored', (e) => pod.restored.push(e));
  return pod;
}

describe('Redis outage logging', () => {
  const prefix = enginePrefix('redisOutage');
  let redis: LocalRedis;
  let own: Redis;
  let refusals = 0;
  let nest: TestApp;
  const pods: Watched[] = [];

  before(async () => {
    redis = await startLocalRedis();
    const base: AtomicQueuesOptions = { redis: redis.url, keyPrefix: prefix };
    const make = (name: string, options: Partial<AtomicQueuesOptions>) => {
      const logger = new RecordingLogger();
      const engine = new AtomicEngine({ ...base, ...options, logger });
      engine.registerHandler(TYPE, (job) => job.data);
      return watch(name, engine, logger);
    };
    pods.push(make('own connections', { podId: 'own' }));
    // A client passed in: the test hears its reconnection attempts, which the engine must not log.
    own = new Redis(redis.url, { maxRetriesPerRequest: null });
    own.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') refusals++;
    });
    pods.push(make('client passed in', { podId: 'passed', redis: own }));
    nest = await compileApp('redisOutage', {
      atomicModule: () =>
        AtomicQueuesModule.forRoot({
          ...base,
          podId: 'nest',
          processing: false,
          entities: { [TYPE]: {} },
        }),
    });
    pods.push(watch('Nest module', engineOf(nest), nest.logger));
    await Promise.all(pods.slice(0, 2).map((p) => p.engine.start()));
    await nest.app.init();
    // Every pod's connections up, the subscriber included.
    for (const p of pods) assert.deepEqual(await p.engine.enqueueAndWait(TYPE, p.name, 'n', 1), 1);
  });

  after(async () => {
    await nest?.app.close();
    await Promise.all(pods.slice(0, 2).map((p) => p.engine.stop()));
    own?.disconnect();
    await redis?.stop();
  });

  for (const round of [1, 2]) {
    it(`outage ${round}: one lost, one restored with the downtime, no line per retry`, async () => {
      refusals = 0;
      redis.kill('SIGTERM');
      try {
        await waitFor(() => pods.every((p) => p.lost.length >= round), {
          ...WAIT,
          message: 'every pod reported the loss',
        });
        // The clients retry meanwhile: the one passed in was refused several times.
        await waitFor(() => refusals >= 3, { ...WAIT, message: 'reconnection attempts refused' });
      } finally {
        await redis.restart(); // also when an assertion failed: stopping needs Redis
      }
      await waitFor(() => pods.every((p) => p.restored.length >= round), {
        ...WAIT,
        message: 'every pod reported the end of the outage',
      });

      const target = `127.0.0.1:${redis.port}`;
      for (const p of pods) {
        assert.equal(p.lost.length, round, p.name);
        assert.equal(p.restored.length, round, p.name);
        // The first sign of the restart is a close, or a reset read (then said in brackets).
        const lost = p.lost[round - 1];
        assert.equal(lost.target, target);
        assert.equal(lost.reason, 'closed');
        assert.match(lost.message, /^the server closed the connection( \(.*\))?$/);
        const { downtimeMs } = p.restored[round - 1];
        assert.equal(p.restored[round - 1].target, target);
        assert.ok(downtimeMs > 0, `${p.name}: downtime ${downtimeMs}`);
        const lines = p.logger.lines.filter(
          (l) => l.level === 'error' || l.level === 'warn' || l.message.includes('Redis'),
        );
        assert.deepEqual(
          lines.map((l) => l.level),
          Array.from({ length: round }, () => ['warn', 'log']).flat(),
          `${p.name}: one warning and one line per outage: ${JSON.stringify(lines)}`,
        );
        for (let r = 0; r < round; r++)
          assert.match(
            lines[2 * r].message,
            new RegExp(
              `^Redis connection lost \\(${target}\\): the server closed the connection.*; reconnecting$`,
            ),
          );
        assert.match(
          lines[2 * round - 1].message,
          new RegExp(`^Redis connection restored \\(${target}\\) after [\\d.]+ m?s down$`),
        );
      }
      // And they carry on: every pod's enqueueAndWait is answered.
      for (const p of pods)
        assert.deepEqual(await p.engine.enqueueAndWait(TYPE, p.name, 'n', round + 1), round + 1);
    });
  }
});
