/**
 * While a pod runs a single job, the result of a remotely awaited job is published by the
 * step script itself (step-4.lua), one round trip sooner than the holder could publish
 * it. The script publishes only when the complete went through: a refused complete (the lease
 * is gone) publishes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { Job } from 'bullmq';
import { JobFailedError, LeaseLostError, type AtomicEngine } from '../../src';
import { KeyBuilder } from '../../src/redis/keys';
import { defineScripts } from '../../src/redis/script-loader';
import { step } from '../../src/redis/scripts/step';
import { cleanPrefix, newRedis } from '../helpers/redis';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';

const KEPT = 'account';
const REMOVED = 'ephemeral';
const FAILING = 'refused';

interface Published {
  source: string;
  channel: string;
  message: string;
}

describe('a result published with its complete', () => {
  const { prefix, engines, redis } = integrationSuite('replyWithCompletion');
  defineScripts(redis);
  let monitor: Redis | undefined;
  const published: Published[] = [];
  let producer: AtomicEngine;

  before(async () => {
    // ioredis treats a connection as monitoring only once MONITOR's OK has been handled, a
    // promise later: another client's command echoed in the same read as that OK is taken for a
    // reply to nothing ("Command queue state error"). So nothing else may talk to Redis while
    // the monitor starts: `redis` has finished its own ready check (the PING waits for it), no
    // engine exists yet, and the monitor is a duplicate of `redis`.
    await redis.ping();
    monitor = await redis.monitor(); // a connection of its own
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (args[0]?.toLowerCase() === 'publish' && args[1]?.startsWith(prefix))
        published.push({ source, channel: args[1], message: args[2] });
    });
    const worker = engines.create({
      podId: 'worker',
      entities: { [KEPT]: {}, [REMOVED]: { removeOnComplete: true }, [FAILING]: {} },
    });
    const handler = (job: Job): Promise<unknown> => {
      const { a, b } = job.data as { a: number; b: number };
      return Promise.resolve({ sum: a + b });
    };
    worker.registerHandler(KEPT, handler);
    worker.registerHandler(REMOVED, handler);
    worker.registerHandler(FAILING, (job: Job) =>
      Promise.reject(new Error(`no funds for ${(job.data as { a: number }).a}`)),
    );
    producer = engines.create({
      podId: 'producer',
      processing: false,
      entities: { [KEPT]: {}, [REMOVED]: {}, [FAILING]: {} },
    });
    await Promise.all([worker.start(), producer.start()]);
  });
  after(() => monitor?.disconnect());

  const publicationsOf = (jobMarker: string): Published[] =>
    published.filter((p) => p.message.includes(jobMarker));

  it('goes out from the script, once, when the job stays in Redis', async () => {
    const value = await producer.enqueueAndWait(KEPT, 'solo', 'add', { a: 2, b: 3 });
    assert.deepEqual(value, { sum: 5 });
    await waitFor(() => publicationsOf('"sum":5').length > 0, { message: 'publish seen' });
    const seen = publicationsOf('"sum":5');
    assert.equal(seen.length, 1, `one publication: ${JSON.stringify(seen)}`);
    assert.equal(seen[0].source, 'lua', 'published by the finishing script');
    assert.equal(engines.errors.length, 0, engines.describeErrors());
  });

  it('goes out from the script too when the job is removed on completion', async () => {
    const value = await producer.enqueueAndWait(REMOVED, 'solo', 'add', { a: 20, b: 3 });
    assert.deepEqual(value, { sum: 23 });
    await waitFor(() => publicationsOf('"sum":23').length > 0, { message: 'publish seen' });
    const seen = publicationsOf('"sum":23');
    assert.equal(seen.length, 1, `one publication: ${JSON.stringify(seen)}`);
    assert.equal(seen[0].source, 'lua', 'published by the finishing script');
    assert.equal(engines.errors.length, 0, engines.describeErrors());
  });

  it('goes out from the script when the job fails, with its error stored', async () => {
    await assert.rejects(
      producer.enqueueAndWait(FAILING, 'solo', 'withdraw', { a: 41 }),
      (err: Error) => err instanceof JobFailedError && err.message.includes('no funds for 41'),
    );
    await waitFor(() => publicationsOf('no funds for 41').length > 0, { message: 'publish seen' });
    const seen = publicationsOf('no funds for 41');
    assert.equal(seen.length, 1, `one publication: ${JSON.stringify(seen)}`);
    assert.equal(seen[0].source, 'lua', 'published by the finishing script');
    const failed = await producer.listFailedJobs(FAILING, 'solo');
    assert.equal(failed.items.length, 1);
    assert.equal(failed.items[0].failedReason, 'no funds for 41');
    assert.equal(
      (failed.items[0].error as { message?: string } | null)?.message,
      'no funds for 41',
    );
    assert.equal(engines.errors.length, 0, engines.describeErrors());
  });

  it('a refused complete publishes nothing and changes nothing', async () => {
    const entityKeys = new KeyBuilder(prefix).entityKeys('{script-test}');
    const key = (name: string): string => `${entityKeys.jobPrefix}${name}`;
    const channelPrefix = `${prefix}:{__aq}:reply:`;
    const channel = `${channelPrefix}test`;
    const received: string[] = [];
    const subscriber = newRedis();
    try {
      subscriber.on('message', (_channel: string, message: string) => received.push(message));
      await subscriber.subscribe(channel);
      // Resolves with the pods awaiting the job, as the script found them.
      const complete = async (token: string, message: string): Promise<readonly string[]> => {
        const [result] = await step(
          redis,
          { podId: 'worker', leaseTtlMs: 30000, replyChannelPrefix: channelPrefix },
          [
            {
              keys: entityKeys,
              slot: 0,
              guard: {
                leaseKey: entityKeys.lease,
                token,
                fence: '',
                podId: 'worker',
                ttlMs: 30000,
              },
              keepCompleted: [-1, '', 1000],
              keepFailed: [-1, '', 1000],
              eventsMaxLen: 0,
              finished: [
                { jobId: 'job1', status: 'completed', value: '{"x":1}', attempts: 1, message },
              ],
              giveBack: [],
              pause: false,
              take: 0,
            },
          ],
        );
        if (result instanceof Error) throw result;
        return result.waiters[0];
      };
      const refused = (reason: string) => (err: unknown) =>
        err instanceof LeaseLostError && err.reason === reason;

      // Awaited by pod `test` (and by the finishing pod itself, which settles it in memory).
      await redis.hset(key('job1'), 'name', 'op', 'data', '{}', 'processedOn', Date.now());
      await redis.hset(key('job1'), 'aqw', 'test,worker');
      await redis.lpush(key('active'), 'job1');
      await assert.rejects(complete('mine', 'no lock'), refused('lock-missing'));
      await redis.set(key('job1:lock'), 'theirs');
      await assert.rejects(complete('mine', 'not my lock'), refused('lock-mismatch'));
      assert.equal(await redis.hget(key('job1'), 'finishedOn'), null);
      assert.deepEqual(await redis.lrange(key('active'), 0, -1), ['job1']);
      await redis.set(key('job1:lock'), 'mine');
      assert.deepEqual(await complete('mine', 'committed'), ['test', 'worker']);
      assert.equal(await redis.hget(key('job1'), 'returnvalue'), '{"x":1}');
      assert.deepEqual(await redis.lrange(key('active'), 0, -1), []);
      assert.equal(await redis.exists(key('job1:lock')), 0);
      await assert.rejects(complete('mine', 'twice'), refused('lock-missing'));

      // Messages arrive in order: once the marker is in, anything published before it is too.
      await redis.publish(channel, 'marker');
      await waitFor(() => received.includes('marker'), { message: 'marker received' });
      assert.deepEqual(received, ['committed', 'marker']);
    } finally {
      await cleanPrefix(redis, entityKeys.jobPrefix.slice(0, -1));
      subscriber.disconnect();
    }
  });
});
