/**
 * What a finished job keeps in Redis within its retention: its hash, read back by BullMQ's own
 * tools, stays a compact listpack when its payload does (Redis's `hash-max-listpack-value`, 64
 * bytes by default), because the engine stores short options (`{"attempts":0}`) instead of
 * BullMQ's usual JSON with the retention and the id (~130 bytes, which made every finished job a
 * hash table of ~1,160 bytes instead of ~330).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Job, Queue } from 'bullmq';
import { integrationSuite } from '../fixtures/integration-suite';

const TYPE = 'acct';

describe('a finished job within its retention', () => {
  const { engines, connect, redis } = integrationSuite('footprint');

  it('is a compact hash that BullMQ reads back whole', async () => {
    const engine = engines.create({ entities: { [TYPE]: { idleTimeoutSeconds: 30 } } });
    engine.registerHandler(TYPE, (job) => Promise.resolve({ seen: (job.data as { n: number }).n }));
    await engine.start();
    const data = { n: 7, note: 'deposit 100 EUR ref 20261206' };
    const custom = await engine.enqueueAndWait(TYPE, 'small', 'deposit', data, {
      jobId: 'tx-2026-12-06-0001',
    });
    assert.deepEqual(custom, { seen: 7 });
    await engine.enqueueAndWait(TYPE, 'small', 'deposit', { ...data, n: 8 });
    const large = { n: 9, note: 'x'.repeat(200) };
    await engine.enqueueAndWait(TYPE, 'large', 'deposit', large);

    const queue = new Queue(engine.queueName(TYPE, 'small'), {
      connection: connect(),
      prefix: engines.prefix,
    });
    try {
      const completed = await queue.getJobs(['completed']);
      assert.equal(completed.length, 2);
      for (const job of completed) {
        const key = `${queue.keys['']}${job.id!}`;
        assert.equal(await redis.object('ENCODING', key), 'listpack', `job ${job.id!}`);
        assert.deepEqual(job.opts, { attempts: 0, backoff: undefined });
        assert.equal(await job.getState(), 'completed');
      }
      const byId = await Job.fromId(queue, 'tx-2026-12-06-0001');
      assert.deepEqual(byId!.data, data);
      assert.equal(byId!.name, 'deposit');
      assert.deepEqual(byId!.returnvalue, { seen: 7 });
      assert.ok(byId!.finishedOn! >= byId!.processedOn!);
      assert.equal(byId!.attemptsMade, 1);
    } finally {
      await queue.close();
    }

    // A payload over 64 bytes makes Redis store the hash as a table (documented: README G6).
    const largeQueue = engine.queueName(TYPE, 'large');
    const [largeId] = await redis.zrange(`${engines.prefix}:${largeQueue}:completed`, 0, -1);
    assert.ok(largeId, 'the large job is kept as completed');
    assert.equal(
      await redis.object('ENCODING', `${engines.prefix}:${largeQueue}:${largeId}`),
      'hashtable',
    );
    assert.equal(engines.describeErrors(), '');
  });
});
