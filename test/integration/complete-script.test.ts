/**
 * The engine completes jobs with its own script (complete.lua) instead of BullMQ's
 * moveToFinished. It must leave Redis as BullMQ would: these tests drive a plain BullMQ queue
 * (BullMQ's add, BullMQ's worker fetch) through the script and read the result back with
 * BullMQ's own readers.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { LeaseLostError } from '../../src';
import { KeyBuilder } from '../../src/redis/keys';
import { defineScripts } from '../../src/redis/script-loader';
import { complete as completeJob, type CompleteReply } from '../../src/redis/scripts/complete';
import { newRedis } from '../helpers/redis';
import { integrationSuite } from '../fixtures/integration-suite';

const TOKEN = 'lease-token';
const LOCK_MS = 30000;

interface Keep {
  count?: number;
  age?: number | '';
}

describe('the complete script, read back with BullMQ', () => {
  const { prefix, redis } = integrationSuite('completeScript');
  defineScripts(redis);
  let queue: Queue;
  let worker: Worker;
  let connection: Redis;
  let n = 0;

  beforeEach(async () => {
    n += 1;
    connection = newRedis({ maxRetriesPerRequest: null });
    queue = new Queue(`q${n}`, { connection, prefix });
    worker = new Worker(`q${n}`, null, { connection, prefix, autorun: false });
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
  });
  afterEach(async () => {
    await worker.close();
    await queue.close();
    await connection.quit(); // shared with BullMQ, which leaves a connection it was given open
  });

  const complete = (
    job: Job,
    value: unknown,
    opts: { keep?: Keep; fetchNext?: boolean; token?: string } = {},
  ): Promise<CompleteReply> =>
    completeJob(redis, new KeyBuilder(prefix).entityKeys(queue.name), {
      jobId: job.id!,
      now: Date.now(),
      returnValue: JSON.stringify(value),
      token: opts.token ?? TOKEN,
      keep: [opts.keep?.count ?? -1, opts.keep?.age ?? '', 1000],
      fetchNext: opts.fetchNext !== false,
      lockMs: LOCK_MS,
    });
  /** The id of the next job a complete took, if it took one. */
  const nextId = (reply: CompleteReply): string | undefined =>
    reply.next === 'job' ? String(reply.raw[1]) : undefined;
  const take = async (): Promise<Job> => {
    const job = (await worker.getNextJob(TOKEN, { block: false })) as Job | undefined;
    assert.ok(job, 'a job was waiting');
    return job;
  };

  it('completes the job as BullMQ would and hands back the next one, locked', async () => {
    const [a, b] = await queue.addBulk([
      { name: 'op', data: { n: 1 } },
      { name: 'op', data: { n: 2 } },
    ]);
    const first = await take();
    assert.equal(first.id, a.id);

    const reply = await complete(first, { ok: 1 });
    assert.equal(nextId(reply), b.id, `the next job came back: ${JSON.stringify(reply)}`);

    const done = await Job.fromId(queue, a.id!);
    assert.equal(await done!.getState(), 'completed');
    assert.deepEqual(done!.returnvalue, { ok: 1 });
    assert.equal(done!.attemptsMade, 1);
    assert.ok(done!.finishedOn! >= done!.processedOn!);
    assert.equal(await redis.exists(`${queue.keys['']}${a.id}:lock`), 0);

    const next = await Job.fromId(queue, b.id!);
    assert.equal(await next!.getState(), 'active');
    assert.ok(next!.processedOn, 'processedOn set');
    assert.equal(await redis.get(`${queue.keys['']}${b.id}:lock`), TOKEN);
    const lockTtl = await redis.pttl(`${queue.keys['']}${b.id}:lock`);
    assert.ok(lockTtl > 0 && lockTtl <= LOCK_MS, `lock expires: ${lockTtl}`);
    assert.deepEqual(await queue.getJobCounts('completed', 'active', 'wait'), {
      completed: 1,
      active: 1,
      wait: 0,
    });

    assert.deepEqual(await complete(next!, null), { next: 'none' }, 'nothing left to take');
    assert.deepEqual(await queue.getJobCounts('completed', 'active', 'wait'), {
      completed: 2,
      active: 0,
      wait: 0,
    });
  });

  it('refuses a job whose lock is not the caller’s, and changes nothing', async () => {
    await queue.add('op', {});
    const job = await take();
    const refused = (reason: string) => (err: unknown) =>
      err instanceof LeaseLostError && err.reason === reason;
    await assert.rejects(complete(job, 1, { token: 'someone-else' }), refused('lock-mismatch'));
    await redis.del(`${queue.keys['']}${job.id}:lock`);
    await assert.rejects(complete(job, 1), refused('lock-missing'));
    assert.equal(await job.getState(), 'active');
    assert.deepEqual(await queue.getJobCounts('completed', 'active'), { completed: 0, active: 1 });
  });

  it('keeps the last n completed jobs, removes them at once with count 0', async () => {
    const added = await queue.addBulk([1, 2, 3, 4].map((i) => ({ name: 'op', data: { i } })));
    let job: Job | undefined = await take();
    while (job) {
      const id = nextId(await complete(job, job.data, { keep: { count: 2 } }));
      job = id === undefined ? undefined : await Job.fromId(queue, id);
    }
    assert.deepEqual(
      (await queue.getCompleted()).map((j) => j.id),
      [added[3].id, added[2].id],
    );
    assert.equal(await Job.fromId(queue, added[0].id!), undefined, 'oldest job removed');

    await queue.add('op', {});
    const removed = await take();
    assert.deepEqual(await complete(removed, 1, { keep: { count: 0 } }), { next: 'none' });
    assert.equal(await Job.fromId(queue, removed.id!), undefined);
    assert.equal(await redis.exists(`${queue.keys['']}${removed.id}`), 0);
  });

  it('removes completed jobs older than the age given', async () => {
    await queue.addBulk([
      { name: 'op', data: 1 },
      { name: 'op', data: 2 },
    ]);
    const old = await take();
    const next = nextId(await complete(old, 1, { keep: { age: 3600 } }));
    await redis.zadd(queue.keys.completed, Date.now() - 7200 * 1000, old.id!); // finished 2 h ago
    const current = await Job.fromId(queue, next!);
    assert.deepEqual(await complete(current!, 2, { keep: { age: 3600 } }), { next: 'none' });
    assert.deepEqual(
      (await queue.getCompleted()).map((j) => j.id),
      [current!.id],
    );
    assert.equal(await Job.fromId(queue, old.id!), undefined);
  });

  it('leaves the fetch to BullMQ when the queue is paused or a delayed job is due', async () => {
    await queue.addBulk([
      { name: 'op', data: 1 },
      { name: 'op', data: 2 },
    ]);
    const first = await take();
    await queue.pause();
    assert.deepEqual(await complete(first, 1), { next: 'fetch' }, 'paused: fetch left to BullMQ');
    assert.deepEqual(await queue.getJobCounts('wait', 'active'), { wait: 1, active: 0 });
    await queue.resume();

    const second = await take();
    const delayed = await queue.add('op', 3, { delay: 1 });
    const due = Date.now() + 5;
    while (Date.now() < due) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      await complete(second, 2),
      { next: 'fetch' },
      'a delayed job is due: BullMQ promotes it',
    );
    const promoted = await take();
    assert.equal(promoted.id, delayed.id);
  });
});
