/**
 * While a pod runs a single job, the result of a remotely awaited job is published by the
 * complete script itself (complete.lua), one round trip sooner than the holder could publish
 * it. The script publishes only when the complete went through: a refused complete (the lease
 * is gone) publishes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { Job } from 'bullmq';
import type { AtomicEngine } from '../../src';
import { defineScripts, runScript } from '../../src/redis/scripts';
import { cleanPrefix, newRedis } from '../helpers/redis';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';

const KEPT = 'account';
const REMOVED = 'ephemeral';

interface Published {
  source: string;
  channel: string;
  message: string;
}

describe('a result published with its complete', () => {
  const { prefix, engines, redis, connect } = integrationSuite('replyWithCompletion');
  defineScripts(redis);
  let monitor: Redis;
  const published: Published[] = [];
  let producer: AtomicEngine;

  before(async () => {
    monitor = await connect().monitor(); // a connection of its own
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (args[0]?.toLowerCase() === 'publish' && args[1]?.startsWith(prefix))
        published.push({ source, channel: args[1], message: args[2] });
    });
    const worker = engines.create({
      podId: 'worker',
      entities: { [KEPT]: {}, [REMOVED]: { removeOnComplete: true } },
    });
    const handler = (job: Job): Promise<unknown> => {
      const { a, b } = job.data as { a: number; b: number };
      return Promise.resolve({ sum: a + b });
    };
    worker.registerHandler(KEPT, handler);
    worker.registerHandler(REMOVED, handler);
    producer = engines.create({
      podId: 'producer',
      processing: false,
      entities: { [KEPT]: {}, [REMOVED]: {} },
    });
    await Promise.all([worker.start(), producer.start()]);
  });
  after(() => monitor.disconnect());

  const publicationsOf = (jobMarker: string): Published[] =>
    published.filter((p) => p.message.includes(jobMarker));

  it('goes out from the script, once, when the job stays in Redis', async () => {
    const value = await producer.enqueueAndWait(KEPT, 'solo', 'add', { a: 2, b: 3 });
    assert.deepEqual(value, { sum: 5 });
    await waitFor(() => publicationsOf('"sum":5').length > 0, { message: 'publish seen' });
    const seen = publicationsOf('"sum":5');
    assert.equal(seen.length, 1, `one publication: ${JSON.stringify(seen)}`);
    assert.equal(seen[0].source, 'lua', 'published by the script behind the complete');
    assert.equal(engines.errors.length, 0, engines.describeErrors());
  });

  it('goes out from the script too when the job is removed on completion', async () => {
    const value = await producer.enqueueAndWait(REMOVED, 'solo', 'add', { a: 20, b: 3 });
    assert.deepEqual(value, { sum: 23 });
    await waitFor(() => publicationsOf('"sum":23').length > 0, { message: 'publish seen' });
    const seen = publicationsOf('"sum":23');
    assert.equal(seen.length, 1, `one publication: ${JSON.stringify(seen)}`);
    assert.equal(seen[0].source, 'lua', 'published by the complete script');
    assert.equal(engines.errors.length, 0, engines.describeErrors());
  });

  it('a refused complete publishes nothing and changes nothing', async () => {
    const queue = `${prefix}:{script-test}`;
    const key = (name: string): string => `${queue}:${name}`;
    const keys = [
      key('wait'),
      key('active'),
      key('stalled'),
      key('events'),
      key('completed'),
      key('job1'),
      key('job1:lock'),
      key('meta'),
      key('delayed'),
      key('prioritized'),
      key('marker'),
    ];
    const channel = `${prefix}:{__aq}:reply:test`;
    const received: string[] = [];
    const subscriber = newRedis();
    try {
      subscriber.on('message', (_channel: string, message: string) => received.push(message));
      await subscriber.subscribe(channel);
      const complete = (token: string, message: string): Promise<unknown> =>
        runScript(redis, 'complete', keys, [
          'job1',
          Date.now(),
          '{"x":1}',
          token,
          -1,
          '',
          1000,
          0,
          `${queue}:`,
          30000,
          channel,
          message,
        ]);

      await redis.hset(key('job1'), 'name', 'op', 'data', '{}', 'processedOn', Date.now());
      await redis.lpush(key('active'), 'job1');
      assert.equal(await complete('mine', 'no lock'), -2);
      await redis.set(key('job1:lock'), 'theirs');
      assert.equal(await complete('mine', 'not my lock'), -6);
      assert.equal(await redis.hget(key('job1'), 'finishedOn'), null);
      assert.deepEqual(await redis.lrange(key('active'), 0, -1), ['job1']);
      await redis.set(key('job1:lock'), 'mine');
      assert.equal(await complete('mine', 'committed'), 0);
      assert.equal(await redis.hget(key('job1'), 'returnvalue'), '{"x":1}');
      assert.deepEqual(await redis.lrange(key('active'), 0, -1), []);
      assert.equal(await redis.exists(key('job1:lock')), 0);
      assert.equal(await complete('mine', 'twice'), -2);

      // Messages arrive in order: once the marker is in, anything published before it is too.
      await redis.publish(channel, 'marker');
      await waitFor(() => received.includes('marker'), { message: 'marker received' });
      assert.deepEqual(received, ['committed', 'marker']);
    } finally {
      await cleanPrefix(redis, queue);
      subscriber.disconnect();
    }
  });
});
