/**
 * The engine takes, completes and fails jobs with its own script (step-4.lua), for many jobs of
 * many entities per call, instead of BullMQ's moveToActive and moveToFinished. It must leave
 * Redis as BullMQ would: these tests add jobs with BullMQ's `Queue`, drive them through the
 * script and read the outcome back with BullMQ's own readers.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { LeaseLostError } from '../../src';
import { KeyBuilder, type EntityKeys } from '../../src/redis/keys';
import { defineScripts } from '../../src/redis/script-loader';
import {
  step,
  StepOutOfTurn,
  type EntityStep,
  type FinishedOutcome,
  type StepResult,
} from '../../src/redis/scripts/step';
import { newRedis } from '../helpers/redis';
import { integrationSuite } from '../fixtures/integration-suite';

const TOKEN = 'lease-token';
const FENCE = '1700000000000001';
const LOCK_MS = 30_000;
const POD = { podId: 'podA', leaseTtlMs: LOCK_MS, replyChannelPrefix: 'test:reply:' };

describe('the step script, read back with BullMQ', () => {
  const { prefix, redis } = integrationSuite('stepScript');
  defineScripts(redis);
  let queues: Queue[];
  let connection: Redis;
  let n = 0;

  beforeEach(async () => {
    connection = newRedis({ maxRetriesPerRequest: null });
    queues = [1, 2].map(() => new Queue(`q${(n += 1)}`, { connection, prefix }));
    await Promise.all(queues.map((q) => q.waitUntilReady()));
    // Each runner's fencing counter is its own: the first step takes the free lease.
    for (const q of queues) await redis.set(keysOf(q).fence, FENCE);
  });
  afterEach(async () => {
    await Promise.all(queues.map((q) => q.close()));
    await connection.quit();
  });

  const keysOf = (q: Queue): EntityKeys => new KeyBuilder(prefix).entityKeys(q.name);
  const entityStep = (q: Queue, part: Partial<EntityStep>): EntityStep => ({
    keys: keysOf(q),
    slot: 0,
    guard: {
      leaseKey: keysOf(q).lease,
      token: TOKEN,
      fence: FENCE,
      podId: POD.podId,
      ttlMs: LOCK_MS,
    },
    keepCompleted: [-1, '', 1000],
    keepFailed: [-1, '', 1000],
    eventsMaxLen: 10_000,
    finished: [],
    giveBack: [],
    pause: false,
    take: 0,
    ...part,
  });
  const one = async (q: Queue, part: Partial<EntityStep>): Promise<StepResult> => {
    const [result] = await step(redis, POD, [entityStep(q, part)]);
    if (result instanceof Error) throw result;
    return result;
  };
  const completed = (id: string, value: unknown): FinishedOutcome => ({
    jobId: id,
    status: 'completed',
    value: JSON.stringify(value),
    attempts: 1,
  });
  const ids = (r: StepResult): string[] => r.taken.map((t) => t.id);

  it('takes K jobs oldest first, locked, and completes them together as BullMQ would', async () => {
    const [q] = queues;
    const added = await q.addBulk([1, 2, 3, 4, 5].map((i) => ({ name: 'op', data: { i } })));
    const first = await one(q, { take: 3 });
    assert.deepEqual(
      ids(first),
      added.slice(0, 3).map((j) => j.id),
    );
    assert.deepEqual(JSON.parse(first.taken[1].fields.data!), { i: 2 });
    for (const id of ids(first)) {
      const job = await Job.fromId(q, id);
      assert.equal(await job!.getState(), 'active');
      assert.ok(job!.processedOn, 'processedOn set');
      assert.equal(await redis.get(`${keysOf(q).jobPrefix}${id}:lock`), TOKEN);
    }

    const second = await one(q, {
      finished: ids(first).map((id) => completed(id, { done: id })),
      take: 3,
    });
    assert.deepEqual(
      ids(second),
      added.slice(3).map((j) => j.id),
      'the rest taken in the same call',
    );
    for (const id of ids(first)) {
      const job = await Job.fromId(q, id);
      assert.equal(await job!.getState(), 'completed');
      assert.deepEqual(job!.returnvalue, { done: id });
      assert.equal(job!.attemptsMade, 1);
      assert.ok(job!.finishedOn! >= job!.processedOn!);
      assert.equal(await redis.exists(`${keysOf(q).jobPrefix}${id}:lock`), 0);
    }
    assert.deepEqual(await q.getJobCounts('completed', 'active', 'wait'), {
      completed: 3,
      active: 2,
      wait: 0,
    });
  });

  it('refuses a step sent after one that has not run yet, writing nothing', async () => {
    const [q] = queues;
    const added = await q.addBulk([1, 2, 3, 4, 5, 6].map((i) => ({ name: 'op', data: { i } })));
    const first = await one(q, { take: 2 });
    // The runner ran both; the step finishing them (and taking 3 and 4) was refused, say while
    // Redis refused writes, and is to be sent again. The step after it arrives first.
    const [early] = await step(redis, POD, [
      entityStep(q, { finished: [], take: 2, after: ids(first)[1] }),
    ]);
    assert.ok(early instanceof StepOutOfTurn, `refused out of turn, got ${JSON.stringify(early)}`);
    assert.deepEqual(await q.getJobCounts('completed', 'active', 'wait'), {
      completed: 0,
      active: 2,
      wait: 4,
    });
    const again = await one(q, {
      finished: ids(first).map((id) => completed(id, id)),
      take: 2,
    });
    const late = await one(q, { take: 2, after: ids(first)[1] });
    assert.deepEqual(
      [...ids(again), ...ids(late)],
      added.slice(2).map((j) => j.id),
      'each step takes the jobs of its turn',
    );
  });

  it('refuses one entity whose lock is not the runner’s, and serves the others in the call', async () => {
    const [a, b] = queues;
    await a.add('op', {});
    await b.addBulk([
      { name: 'op', data: 1 },
      { name: 'op', data: 2 },
    ]);
    const [takenA, takenB] = await step(redis, POD, [
      entityStep(a, { take: 1 }),
      entityStep(b, { take: 1 }),
    ]);
    assert.ok(!(takenA instanceof Error) && !(takenB instanceof Error));
    // Another holder's token on a's job: a's section is refused, b's goes through.
    await redis.set(`${keysOf(a).jobPrefix}${ids(takenA)[0]}:lock`, 'someone-else');
    const [refused, served] = await step(redis, POD, [
      entityStep(a, { finished: [completed(ids(takenA)[0], 1)], take: 1 }),
      entityStep(b, { finished: [completed(ids(takenB)[0], 2)], take: 1 }),
    ]);
    assert.ok(refused instanceof LeaseLostError, `a refused: ${JSON.stringify(refused)}`);
    assert.equal(refused.reason, 'lock-mismatch');
    assert.equal(await (await Job.fromId(a, ids(takenA)[0]))!.getState(), 'active');
    assert.ok(!(served instanceof Error));
    assert.equal(served.taken.length, 1, 'b took its next job');
    assert.equal(await (await Job.fromId(b, ids(takenB)[0]))!.getState(), 'completed');
  });

  it('gives jobs taken but not run back to the head of the line, in order', async () => {
    const [q] = queues;
    const added = await q.addBulk([1, 2, 3, 4].map((i) => ({ name: 'op', data: i })));
    const taken = await one(q, { take: 3 });
    // The first ran; the other two go back, first in line.
    const next = await one(q, {
      finished: [completed(ids(taken)[0], 'ok')],
      giveBack: ids(taken).slice(1),
      take: 4,
    });
    assert.deepEqual(
      ids(next),
      added.slice(1).map((j) => j.id),
      'given back before the last',
    );
  });

  it('gives back the rest of a batch and a batch taken ahead whose locks expired, in order', async () => {
    const [q] = queues;
    const added = await q.addBulk(Array.from({ length: 40 }, (_, i) => ({ name: 'op', data: i })));
    const a = await one(q, { take: 16 });
    const b = await one(q, { take: 16 });
    // The batch taken ahead waited longer than a TTL: its locks (renewed once it runs) are gone.
    await redis.del(...ids(b).map((id) => `${keysOf(q).jobPrefix}${id}:lock`));
    const next = await one(q, {
      finished: ids(a)
        .slice(0, 12)
        .map((id) => completed(id, 'ok')),
      giveBack: [...ids(a).slice(12), ...ids(b)],
      take: 0,
    });
    assert.equal(next.taken.length, 0);
    assert.equal(await q.getActiveCount(), 0, 'none left in active, to come back as stalled');
    const again = await one(q, { take: 28 });
    assert.deepEqual(
      ids(again),
      added.slice(12).map((j) => j.id),
      'the rest of the batch, then the batch taken ahead, then the others',
    );
  });

  it('fails a job as BullMQ would, and pauses the entity when asked', async () => {
    const [q] = queues;
    await q.addBulk([
      { name: 'op', data: 1 },
      { name: 'op', data: 2 },
    ]);
    const taken = await one(q, { take: 1 });
    const result = await one(q, {
      finished: [
        {
          jobId: ids(taken)[0],
          status: 'failed',
          value: 'boom',
          attempts: 3,
          error: JSON.stringify({ name: 'Error', message: 'boom' }),
          stacktrace: JSON.stringify(['Error: boom']),
        },
      ],
      pause: true,
      take: 1,
    });
    assert.equal(result.taken.length, 0, 'paused: nothing taken');
    const job = await Job.fromId(q, ids(taken)[0]);
    assert.equal(await job!.getState(), 'failed');
    assert.equal(job!.failedReason, 'boom');
    assert.equal(job!.attemptsMade, 3);
    assert.deepEqual(job!.stacktrace, ['Error: boom']);
    assert.equal(await q.isPaused(), true);
    assert.deepEqual(await q.getJobCounts('failed', 'wait', 'active'), {
      failed: 1,
      wait: 1,
      active: 0,
    });
  });

  it('writes no events with eventsMaxLen 0, BullMQ’s events otherwise', async () => {
    const [quiet, loud] = queues;
    for (const [q, eventsMaxLen] of [
      [quiet, 0],
      [loud, 10_000],
    ] as const) {
      await q.add('op', {});
      const before = await redis.xlen(keysOf(q).events);
      const taken = await one(q, { take: 1, eventsMaxLen });
      await one(q, { finished: [completed(ids(taken)[0], 1)], eventsMaxLen });
      const events = (await redis.xrange(keysOf(q).events, '-', '+'))
        .slice(before)
        .map(([, fields]) => fields[1]);
      if (eventsMaxLen === 0) assert.deepEqual(events, []);
      else assert.deepEqual(events, ['active', 'completed']);
    }
  });

  it('finishes a job whose lock expired while nobody took the entity, and refuses otherwise', async () => {
    const [q] = queues;
    const k = keysOf(q);
    await q.addBulk([
      { name: 'op', data: 1 },
      { name: 'op', data: 2 },
    ]);
    const [first] = ids(await one(q, { take: 1 }));
    // The holder paused past its lease: lease and lock expired, the fencing counter is its own.
    await redis.del(k.lease, `${k.jobPrefix}${first}:lock`);
    const next = await one(q, { finished: [completed(first, 'ok')], take: 1 });
    assert.equal(await (await Job.fromId(q, first))!.getState(), 'completed');
    assert.equal(next.taken.length, 1, 'and the next job taken');
    assert.equal(await redis.hget(k.lease, 't'), TOKEN, 'the lease is taken back');

    // Another pod claimed in between (the counter moved on): the old holder is refused.
    await redis.del(k.lease, `${k.jobPrefix}${ids(next)[0]}:lock`);
    await redis.set(k.fence, String(BigInt(FENCE) + 1n));
    const [refused] = await step(redis, POD, [
      entityStep(q, { finished: [completed(ids(next)[0], 'late')] }),
    ]);
    assert.ok(refused instanceof LeaseLostError, `refused: ${JSON.stringify(refused)}`);
    assert.equal(refused.reason, 'lock-missing');
    assert.equal(await (await Job.fromId(q, ids(next)[0]))!.getState(), 'active');
  });

  it('takes a job that stalled alone, and stops a batch before one', async () => {
    const [q] = queues;
    const added = await q.addBulk([1, 2, 3, 4].map((i) => ({ name: 'op', data: i })));
    // Its holder died with the second and the fourth taken (claim-11.lua counted the stall).
    for (const job of [added[1], added[3]])
      await redis.hset(`${keysOf(q).jobPrefix}${job.id}`, 'stc', 1);
    const batches: string[][] = [];
    let taken = await one(q, { take: 4 });
    while (taken.taken.length > 0) {
      batches.push(ids(taken));
      taken = await one(q, { finished: ids(taken).map((id) => completed(id, 1)), take: 4 });
    }
    const [a, b, c, d] = added.map((j) => j.id);
    assert.deepEqual(batches, [[a], [b], [c], [d]]);
  });

  it('marks the holder idle when asked and it takes nothing, as idle-8.lua would', async () => {
    const [q] = queues;
    const [job] = await q.addBulk([{ name: 'op', data: 1 }]);
    const first = await one(q, { take: 4, idle: true });
    assert.deepEqual(ids(first), [job.id], 'a step that takes something is not idle');
    assert.equal(first.idle, undefined);
    assert.notEqual(await redis.hget(keysOf(q).lease, 'i'), '1');
    const last = await one(q, { finished: [completed(job.id!, 1)], take: 4, idle: true });
    assert.deepEqual(ids(last), []);
    assert.deepEqual(last.idle, { dueInMs: 0, watch: false });
    assert.equal(await redis.hget(keysOf(q).lease, 'i'), '1', 'an enqueue now wakes the holder');
    // Not asked: the holder stays as it was (its runner marks it idle with idle-8.lua).
    await redis.hset(keysOf(q).lease, 'i', '0');
    assert.equal((await one(q, { take: 4 })).idle, undefined);
    assert.equal(await redis.hget(keysOf(q).lease, 'i'), '0');
  });

  it('tells an idle holder when its next delayed job is due, and to watch a paused queue', async () => {
    const [q, paused] = queues;
    await q.add('later', {}, { delay: 60_000 });
    const idle = await one(q, { take: 4, idle: true });
    assert.ok(idle.idle, 'marked idle');
    assert.ok(idle.idle.dueInMs > 55_000 && idle.idle.dueInMs <= 60_000, `${idle.idle.dueInMs}`);
    await paused.add('op', {});
    await paused.pause();
    const held = await one(paused, { take: 4, idle: true });
    assert.deepEqual(ids(held), [], 'nothing taken from a paused queue');
    assert.deepEqual(held.idle, { dueInMs: 0, watch: true });
  });

  it('takes back a job whose take reply was lost before going idle, as idle-8.lua does', async () => {
    const [q] = queues;
    const [a, b] = await q.addBulk([1, 2].map((i) => ({ name: 'op', data: i })));
    // A take whose reply was lost: both jobs are active under this token, the runner knows none.
    await one(q, { take: 2 });
    const back = await one(q, { take: 4, idle: true });
    assert.deepEqual(ids(back), [a.id, b.id], 'taken again, in order, not stranded');
    assert.equal(back.idle, undefined);
    const done = await one(q, {
      finished: ids(back).map((id) => completed(id, 1)),
      take: 4,
      idle: true,
    });
    assert.ok(done.idle, 'idle once they ran');
    assert.deepEqual(await q.getJobCounts('completed', 'active', 'wait'), {
      completed: 2,
      active: 0,
      wait: 0,
    });
  });

  it('takes nothing without the lease: another holder claimed the entity', async () => {
    const [q] = queues;
    await q.add('op', {});
    await redis.hset(keysOf(q).lease, 't', 'other-token', 'p', 'podB');
    await redis.pexpire(keysOf(q).lease, LOCK_MS);
    await redis.set(keysOf(q).fence, String(BigInt(FENCE) + 1n));
    const [result] = await step(redis, POD, [entityStep(q, { take: 1 })]);
    assert.ok(result instanceof LeaseLostError, `refused: ${JSON.stringify(result)}`);
    assert.deepEqual(await q.getJobCounts('wait', 'active'), { wait: 1, active: 0 });
  });
});
