/**
 * The engine finishes jobs with its own script (finish-13.lua) instead of BullMQ's
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
import { finish, type FinishReply } from '../../src/redis/scripts/finish';
import { newRedis } from '../helpers/redis';
import { integrationSuite } from '../fixtures/integration-suite';

const TOKEN = 'lease-token';
const LOCK_MS = 30000;

interface Keep {
  count?: number;
  age?: number | '';
}

describe('the finish script, read back with BullMQ', () => {
  const { prefix, redis } = integrationSuite('finishScript');
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

  const keysOf = () => new KeyBuilder(prefix).entityKeys(queue.name);
  const guard = (token = TOKEN, fence = '') => ({
    leaseKey: keysOf().lease,
    token,
    fence,
    podId: 'podA',
    ttlMs: LOCK_MS,
  });
  const complete = (
    job: Job,
    value: unknown,
    opts: { keep?: Keep; fetchNext?: boolean; token?: string; fence?: string } = {},
  ): Promise<FinishReply> =>
    finish(redis, keysOf(), guard(opts.token, opts.fence), {
      status: 'completed',
      jobId: job.id!,
      returnValue: JSON.stringify(value),
      keep: [opts.keep?.count ?? -1, opts.keep?.age ?? '', 1000],
      fetchNext: opts.fetchNext !== false,
    });
  /** The id of the next job a finish took, if it took one. */
  const nextId = (reply: FinishReply): string | undefined =>
    reply.next === 'job' ? String(reply.raw[1]) : undefined;
  const none = { next: 'none', waiters: [] };
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

    assert.deepEqual(await complete(next!, null), none, 'nothing left to take');
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
    assert.deepEqual(await complete(removed, 1, { keep: { count: 0 } }), none);
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
    assert.deepEqual(await complete(current!, 2, { keep: { age: 3600 } }), none);
    assert.deepEqual(
      (await queue.getCompleted()).map((j) => j.id),
      [current!.id],
    );
    assert.equal(await Job.fromId(queue, old.id!), undefined);
  });

  it('takes no job while paused, and promotes a delayed job that is due by Redis’s clock', async () => {
    await queue.addBulk([
      { name: 'op', data: 1 },
      { name: 'op', data: 2 },
    ]);
    const first = await take();
    await queue.pause();
    assert.deepEqual(await complete(first, 1), none, 'paused: nothing taken');
    assert.deepEqual(await queue.getJobCounts('wait', 'active'), { wait: 1, active: 0 });
    await queue.resume();

    const second = await take();
    const delayed = await queue.add('op', 3, { delay: 1 });
    const due = Date.now() + 5;
    while (Date.now() < due) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(nextId(await complete(second, 2)), delayed.id, 'the due delayed job is next');
    assert.equal(await (await Job.fromId(queue, delayed.id!))!.getState(), 'active');
  });

  it('finishes a job whose lock expired while nobody took the entity, and refuses otherwise', async () => {
    await queue.addBulk([
      { name: 'op', data: 1 },
      { name: 'op', data: 2 },
    ]);
    const k = keysOf();
    const job = await take();
    // The holder paused past its lease: lease and lock expired, the fencing counter is its own.
    await redis.set(k.fence, '1700000000000001');
    await redis.del(`${k.jobPrefix}${job.id}:lock`);
    const reply = await complete(job, 'ok', { fence: '1700000000000001' });
    assert.ok(reply.next === 'job', 'completed, and the next job taken');
    assert.equal(await job.getState(), 'completed');
    assert.equal(await redis.hget(k.lease, 't'), TOKEN, 'the lease is taken back');

    // Another pod claimed in between (the counter moved on): the old holder is refused.
    const next = await Job.fromId(queue, String(reply.raw[1]));
    await redis.del(k.lease, `${k.jobPrefix}${next!.id}:lock`);
    await redis.set(k.fence, '1700000000000002');
    await assert.rejects(
      complete(next!, 'late', { fence: '1700000000000001' }),
      (err: unknown) => err instanceof LeaseLostError && err.reason === 'lock-missing',
    );
    assert.equal(await next!.getState(), 'active');
  });

  it('fails a job as BullMQ would, keeping the error, and pauses the entity when asked', async () => {
    await queue.addBulk([
      { name: 'op', data: 1 },
      { name: 'op', data: 2 },
    ]);
    const job = await take();
    const error = { name: 'InsufficientFunds', message: 'no money', fields: { status: 409 } };
    const reply = await finish(redis, keysOf(), guard(), {
      status: 'failed',
      jobId: job.id!,
      reason: 'no money',
      error: JSON.stringify(error),
      stacktrace: JSON.stringify(['InsufficientFunds: no money\n    at here']),
      keep: [-1, '', 1000],
      pause: true,
      fetchNext: true,
    });
    assert.deepEqual(reply, none, 'paused: nothing taken');
    const failed = await Job.fromId(queue, job.id!);
    assert.equal(await failed!.getState(), 'failed');
    assert.equal(failed!.failedReason, 'no money');
    assert.deepEqual(failed!.stacktrace, ['InsufficientFunds: no money\n    at here']);
    assert.equal(await redis.hget(`${keysOf().jobPrefix}${job.id}`, 'aqe'), JSON.stringify(error));
    assert.equal(await queue.isPaused(), true);
    assert.deepEqual(await queue.getJobCounts('failed', 'wait', 'active'), {
      failed: 1,
      wait: 1,
      active: 0,
    });
  });
});
