/**
 * The engine adds jobs with its own script (add.lua) instead of BullMQ's addStandardJob. It must
 * leave Redis as BullMQ would: each test adds the same jobs to twin queues, one through
 * BullMQ's `Queue.add`, one through the script, and compares them with BullMQ's own readers;
 * a plain BullMQ worker then takes the script's jobs.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { KeyBuilder } from '../../src/redis/keys';
import { defineScripts } from '../../src/redis/script-loader';
import { decodeJobReply, sendAdd, sendAddMany, type JobReply } from '../../src/redis/scripts/add';
import { newRedis } from '../helpers/redis';
import { integrationSuite } from '../fixtures/integration-suite';

const KEEP = { removeOnComplete: { count: 1000 }, removeOnFail: false } as const;

describe('the add script, read back with BullMQ', () => {
  const { prefix, redis } = integrationSuite('addScript');
  defineScripts(redis);
  let connection: Redis;
  let viaBull: Queue;
  let viaScript: Queue;
  let n = 0;

  beforeEach(async () => {
    n += 1;
    connection = newRedis({ maxRetriesPerRequest: null });
    viaBull = new Queue(`bull${n}`, { connection, prefix });
    viaScript = new Queue(`script${n}`, { connection, prefix });
    await Promise.all([viaBull.waitUntilReady(), viaScript.waitUntilReady()]);
  });
  afterEach(async () => {
    await viaBull.close();
    await viaScript.close();
    await connection.quit(); // shared with BullMQ, which leaves a connection it was given open
  });

  /** Adds as the engine does (see AddTransport: every job has an id); returns the reply. */
  const add = async (
    name: string,
    data: unknown,
    jobId: string,
    awaitingPod?: string,
  ): Promise<JobReply> => {
    const keys = new KeyBuilder(prefix).entityKeys(viaScript.name);
    const opts = { attempts: 0, ...KEEP, jobId };
    return decodeJobReply(
      await sendAdd(redis, keys, {
        jobId,
        name,
        data: JSON.stringify(data),
        opts: JSON.stringify(opts),
        awaitingPod,
        eventsMaxLen: 10_000,
      }),
    );
  };

  it("builds an entity's BullMQ keys as BullMQ does", () => {
    const keys = new KeyBuilder(prefix).entityKeys(viaScript.name);
    const bull = viaScript.keys;
    for (const name of [
      'wait',
      'active',
      'prioritized',
      'delayed',
      'meta',
      'events',
      'marker',
      'stalled',
      'completed',
      'failed',
      'id',
    ] as const)
      assert.equal(keys[name], bull[name], name);
    assert.equal(keys.jobPrefix, bull['']);
  });
  /** The stored hash of a job, without its timestamp (the twins were added moments apart). */
  const stored = async (queue: Queue, id: string): Promise<Record<string, unknown>> => {
    const hash = await redis.hgetall(`${queue.keys['']}${id}`);
    assert.ok(Number(hash.timestamp) > 0, `job ${id} has a timestamp`);
    const { timestamp: _t, opts, ...rest } = hash;
    return { ...rest, opts: JSON.parse(opts) as unknown };
  };
  const events = async (queue: Queue): Promise<string[]> =>
    (await redis.xrange(queue.keys.events, '-', '+')).map(([, fields]) => {
      const f = Object.fromEntries(
        fields.flatMap((v, i, all) => (i % 2 === 0 ? [[v, all[i + 1]]] : [])),
      ) as Record<string, string>;
      return `${f.event}:${f.jobId}`;
    });

  /** The twins' wait lists, markers, events and counts are BullMQ's. */
  const assertSameQueues = async (): Promise<void> => {
    assert.deepEqual(
      await redis.lrange(viaScript.keys.wait, 0, -1),
      await redis.lrange(viaBull.keys.wait, 0, -1),
    );
    assert.deepEqual(
      await redis.zrange(viaScript.keys.marker, 0, -1, 'WITHSCORES'),
      await redis.zrange(viaBull.keys.marker, 0, -1, 'WITHSCORES'),
    );
    assert.deepEqual(await events(viaScript), await events(viaBull));
    assert.deepEqual(await viaScript.getJobCounts(), await viaBull.getJobCounts());
  };

  it('stores a job as BullMQ does: hash, wait list, marker, events, counts', async () => {
    const data = { amount: 5, note: 'é' };
    await viaBull.add('deposit', data, { ...KEEP, jobId: 'a1b2.1' });
    await viaBull.add('deposit', data, { ...KEEP, jobId: 'tx-7' });
    assert.deepEqual(await add('deposit', data, 'a1b2.1'), { kind: 'added' });
    assert.deepEqual(await add('deposit', data, 'tx-7'), { kind: 'added' });

    for (const id of ['a1b2.1', 'tx-7'])
      assert.deepEqual(await stored(viaScript, id), await stored(viaBull, id), `job ${id}`);
    await assertSameQueues();
    assert.equal(await redis.exists(viaScript.keys.id), 0, 'ids are the engine’s: no counter');

    const job = await Job.fromId(viaScript, 'tx-7');
    assert.deepEqual(job!.data, data);
    assert.equal(job!.name, 'deposit');
    assert.deepEqual(job!.opts.removeOnComplete, KEEP.removeOnComplete);
    assert.equal(await job!.getState(), 'waiting');
  });

  it('adds a custom id once: the duplicate changes nothing and is reported as BullMQ does', async () => {
    await viaBull.add('op', { v: 1 }, { ...KEEP, jobId: 'once' });
    await viaBull.add('op', { v: 2 }, { ...KEEP, jobId: 'once' });
    assert.deepEqual(await add('op', { v: 1 }, 'once'), { kind: 'added' });
    assert.deepEqual(await add('op', { v: 2 }, 'once', 'podB'), { kind: 'pending' });

    assert.deepEqual(await redis.lrange(viaScript.keys.wait, 0, -1), ['once']);
    assert.deepEqual((await Job.fromId(viaScript, 'once'))!.data, { v: 1 });
    assert.deepEqual(await events(viaScript), await events(viaBull));
    assert.ok((await events(viaScript)).includes('duplicated:once'));
    assert.equal(
      await redis.hget(`${viaScript.keys['']}once`, 'aqw'),
      'podB',
      'the caller awaiting the duplicate joins the waiters',
    );
  });

  it('answers a duplicate with the stored result once the first job finished', async () => {
    await add('op', { v: 1 }, 'done', 'podA');
    const worker = new Worker(viaScript.name, null, { connection, prefix, autorun: false });
    try {
      const job = await worker.getNextJob('token', { block: false });
      assert.ok(job);
      await job.moveToCompleted({ balance: 42 }, 'token', false);
    } finally {
      await worker.close();
    }
    assert.deepEqual(await add('op', { v: 2 }, 'done', 'podB'), {
      kind: 'completed',
      value: '{"balance":42}',
    });
    assert.equal(await redis.hget(`${viaScript.keys['']}done`, 'aqw'), 'podA', 'no new waiter');
  });

  it('sets no marker while the queue is paused, as BullMQ does', async () => {
    await viaBull.pause();
    await viaScript.pause();
    await redis.del(viaBull.keys.marker, viaScript.keys.marker);
    await viaBull.add('op', {}, KEEP);
    await add('op', {}, 'p1');
    assert.equal(await redis.exists(viaScript.keys.marker), 0);
    assert.equal(await redis.exists(viaBull.keys.marker), 0);
    assert.deepEqual(await viaScript.getJobCounts(), await viaBull.getJobCounts());
  });

  it('hands its jobs to a plain BullMQ worker, in the order added', async () => {
    for (let i = 0; i < 5; i++) await add('op', { i }, `t.${i}`);
    const worker = new Worker(viaScript.name, null, { connection, prefix, autorun: false });
    try {
      const seen: unknown[] = [];
      for (let i = 0; i < 5; i++) {
        const job = (await worker.getNextJob('token', { block: false })) as Job | undefined;
        assert.ok(job, `job ${i} was waiting`);
        seen.push(job.data);
        await job.moveToCompleted('ok', 'token', false);
      }
      assert.deepEqual(
        seen,
        [0, 1, 2, 3, 4].map((i) => ({ i })),
      );
      assert.equal((await viaScript.getJobCounts()).completed, 5);
    } finally {
      await worker.close();
    }
  });

  it('adds many jobs in one call (addMany) as BullMQ adds them one by one', async () => {
    const jobs = [
      { id: 'm.1', name: 'deposit', data: { amount: 1 } },
      { id: 'm.2', name: 'withdraw', data: { amount: 2 } },
      { id: 'm.1', name: 'deposit', data: { amount: 9 } }, // a duplicate within the call
      { id: 'm.3', name: 'deposit', data: { amount: 3 } },
    ];
    for (const job of jobs) await viaBull.add(job.name, job.data, { ...KEEP, jobId: job.id });
    const keys = new KeyBuilder(prefix).entityKeys(viaScript.name);
    const raw = (await sendAddMany(
      redis,
      keys,
      10_000,
      jobs.map((job, i) => ({
        jobId: job.id,
        name: job.name,
        data: JSON.stringify(job.data),
        opts: JSON.stringify({ attempts: 0, ...KEEP, jobId: job.id }),
        awaitingPod: i === 2 ? 'podB' : undefined,
      })),
    )) as unknown[];
    assert.deepEqual(
      raw.map((reply) => decodeJobReply(reply).kind),
      ['added', 'added', 'pending', 'added'],
    );
    assert.equal(
      await redis.hget(`${viaScript.keys['']}m.1`, 'aqw'),
      'podB',
      'the caller awaiting the duplicate joins the waiters',
    );
    await redis.hdel(`${viaScript.keys['']}m.1`, 'aqw');
    for (const id of ['m.1', 'm.2', 'm.3'])
      assert.deepEqual(await stored(viaScript, id), await stored(viaBull, id), `job ${id}`);
    await assertSameQueues();

    const worker = new Worker(viaScript.name, null, { connection, prefix, autorun: false });
    try {
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        const job = (await worker.getNextJob('token', { block: false })) as Job | undefined;
        assert.ok(job, `job ${i} was waiting`);
        seen.push(job.id!);
        await job.moveToCompleted('ok', 'token', false);
      }
      assert.deepEqual(seen, ['m.1', 'm.2', 'm.3'], 'a BullMQ worker takes them in call order');
    } finally {
      await worker.close();
    }
  });
});
