/**
 * While a pod runs a single job, the result of a remotely awaited job is published by a script
 * queued right behind the job's complete (replyIfCompleted.lua), one round trip sooner than the
 * holder could publish it. The script publishes only what Redis holds as committed: a job
 * finished with exactly that return value. When it can't tell (the job was removed on
 * completion), the holder publishes after the complete's reply, as under load.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { Job } from 'bullmq';
import type { AtomicEngine } from '../../src';
import { defineScripts, runScript } from '../../src/redis/scripts';
import { cleanPrefix, newRedis } from '../helpers/redis';
import { waitFor } from '../helpers/wait-for';
import { EngineSet, enginePrefix } from '../fixtures/engines';

const KEPT = 'account';
const REMOVED = 'ephemeral';

interface Published {
  source: string;
  channel: string;
  message: string;
}

describe('a result published with its complete', () => {
  const prefix = enginePrefix('replyWithCompletion');
  const engines = new EngineSet(prefix);
  let redis: Redis;
  let monitorSource: Redis;
  let monitor: Redis;
  const published: Published[] = [];
  let producer: AtomicEngine;

  before(async () => {
    redis = newRedis();
    defineScripts(redis);
    monitorSource = newRedis();
    monitor = await monitorSource.monitor(); // a connection of its own
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
  after(async () => {
    await engines.stopAll();
    monitor.disconnect();
    monitorSource.disconnect();
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

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

  it('goes out after the complete when the job was removed on completion', async () => {
    const value = await producer.enqueueAndWait(REMOVED, 'solo', 'add', { a: 20, b: 3 });
    assert.deepEqual(value, { sum: 23 });
    await waitFor(() => publicationsOf('"sum":23').length > 0, { message: 'publish seen' });
    const seen = publicationsOf('"sum":23');
    assert.equal(seen.length, 1, `one publication: ${JSON.stringify(seen)}`);
    assert.notEqual(seen[0].source, 'lua', 'published by the holder');
    assert.equal(engines.errors.length, 0, engines.describeErrors());
  });

  it('the script publishes only a job finished with exactly that value', async () => {
    const jobKey = `${prefix}:{script-test}:job1`;
    const channel = `${prefix}:{__aq}:reply:test`;
    const received: string[] = [];
    const subscriber = newRedis();
    try {
      subscriber.on('message', (_channel: string, message: string) => received.push(message));
      await subscriber.subscribe(channel);
      const reply = (returnValue: string, message: string): Promise<unknown> =>
        runScript(redis, 'replyIfCompleted', [jobKey], [returnValue, channel, message]);

      await redis.hset(jobKey, 'name', 'op', 'processedOn', Date.now()); // still running
      assert.equal(await reply('{"x":1}', 'running'), 0);
      await redis.hset(jobKey, 'finishedOn', Date.now(), 'returnvalue', '{"x":1}');
      assert.equal(await reply('{"x":2}', 'another value'), 0);
      assert.equal(await reply('{"x":1}', 'committed'), 1);
      await redis.del(jobKey);
      assert.equal(await reply('{"x":1}', 'removed'), 0);

      // Messages arrive in order: once the marker is in, anything published before it is too.
      await redis.publish(channel, 'marker');
      await waitFor(() => received.includes('marker'), { message: 'marker received' });
      assert.deepEqual(received, ['committed', 'marker']);
    } finally {
      await redis.del(jobKey);
      subscriber.disconnect();
    }
  });
});
