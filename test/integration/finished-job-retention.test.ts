/**
 * `removeOnComplete` / `removeOnFail` with a count, as BullMQ applies them: once a job finishes,
 * only the newest `count` finished jobs stay in the completed (failed) set, and every key of the
 * others is gone (the job's hash, its lock, its logs): nothing of them is left behind in Redis.
 * Jobs stored in the same millisecond rank by id, as in BullMQ.
 * The step that stores completions applies it, half a batch at a time with a backlog.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Queue, type Job } from 'bullmq';
import { sleep, waitFor } from '../../support/async';
import { enqueueSequences } from '../fixtures/engines';
import { integrationSuite } from '../fixtures/integration-suite';
import { queueKey } from '../fixtures/queue-state';

const TYPE = 'account';
const ENTITY = 'acct1';
const JOBS = 40;
const KEEP_COMPLETED = 3;
const KEEP_FAILED = 2;
/** Jobs whose `seq` is a multiple of this fail (no retries). */
const FAIL_EVERY = 5;
/** Jobs whose `seq` is a multiple of this write a log line (`job.log`: a `:logs` key). */
const LOG_EVERY = 3;
/**
 * Each job takes this long, so that steps (half a batch, 4 jobs) store their jobs in different
 * milliseconds: the finished sets are scored by the millisecond, and BullMQ's keep ranks jobs of
 * the same millisecond by id.
 */
const JOB_MS = 2;
/** The completed jobs kept are among this many last to complete (two steps). */
const LAST_STEPS_JOBS = 8;

describe('finished jobs beyond removeOnComplete / removeOnFail counts', () => {
  const { prefix, engines, redis, connect } = integrationSuite('finished-job-retention');

  it('are removed with every key they had; the newest ones stay', async () => {
    const producer = await enqueueSequences(engines, TYPE, [ENTITY], JOBS);
    const pod = engines.create({
      podId: 'worker',
      logger: false,
      entities: {
        [TYPE]: {
          batchSize: 8,
          attempts: 1,
          onFailure: 'continue',
          removeOnComplete: { count: KEEP_COMPLETED },
          removeOnFail: { count: KEEP_FAILED },
        },
      },
    });
    const finished: string[] = [];
    const logged: string[] = [];
    const finishedAs = { completed: [] as string[], failed: [] as string[] };
    pod.on('job:completed', (e: { jobId: string }) => {
      finished.push(e.jobId);
      finishedAs.completed.push(e.jobId);
    });
    pod.on('job:failed', (e: { jobId: string }) => {
      finished.push(e.jobId);
      finishedAs.failed.push(e.jobId);
    });
    pod.registerHandler(TYPE, async (job: Job) => {
      const seq = (job.data as { seq: number }).seq;
      await sleep(JOB_MS); // the job's work
      if (seq % LOG_EVERY === 0) {
        await job.log(`job ${seq} was here`);
        logged.push(job.id!);
      }
      if (seq % FAIL_EVERY === 0) throw new Error(`planned failure ${seq}`);
      return seq;
    });
    await pod.start();
    await waitFor(() => finished.length === JOBS, {
      timeoutMs: 20_000,
      message: 'every job finished',
    });

    const key = (suffix: string): string => queueKey(prefix, TYPE, ENTITY, suffix);
    const completed = await redis.zrange(key('completed'), 0, -1);
    const failed = await redis.zrange(key('failed'), 0, -1);
    assert.equal(completed.length, KEEP_COMPLETED, `completed set: ${completed.join(', ')}`);
    assert.equal(failed.length, KEEP_FAILED, `failed set: ${failed.join(', ')}`);

    // The jobs kept are of the last to finish (of the same millisecond, those first by id).
    const amongLast = (kept: string[], of: string[], n: number): void => {
      const last = of.slice(-n);
      assert.ok(
        kept.every((id) => last.includes(id)),
        `kept ${kept.join(', ')}, not among the last ${n} to finish: ${last.join(', ')}`,
      );
    };
    amongLast(completed, finishedAs.completed, LAST_STEPS_JOBS);
    amongLast(failed, finishedAs.failed, KEEP_FAILED + 1);

    // Every other job left no key.
    const kept = new Set([...completed, ...failed]);
    const removed = finished.filter((id) => !kept.has(id));
    assert.equal(removed.length, JOBS - KEEP_COMPLETED - KEEP_FAILED);
    assert.ok(
      removed.some((id) => logged.includes(id)),
      'some removed jobs had logs (so that their removal is checked)',
    );
    const suffixes = ['', ':lock', ':logs', ':dependencies', ':processed', ':failed'];
    const left = await redis.exists(removed.flatMap((id) => suffixes.map((s) => key(id + s))));
    assert.equal(left, 0, 'keys of removed jobs left in Redis');
    // The kept jobs' hashes are there, without their locks.
    assert.equal(await redis.exists([...kept].map((id) => key(id))), kept.size);
    assert.equal(await redis.exists([...kept].map((id) => key(`${id}:lock`))), 0);

    await producer.stop();
    assert.equal(engines.describeErrors(), '', 'no engine errors');
  });

  it("are removed with all of BullMQ's keys when a BullMQ tool added them (flow keys too)", async () => {
    // A job the engine did not add may be a flow's parent: its removal is BullMQ's full one.
    const entity = 'acct2';
    const pod = engines.create({
      podId: 'worker2',
      logger: false,
      // Removed as it completes: with a count, which of the jobs finished in the same millisecond
      // stays is BullMQ's tie order (by id), and the job BullMQ added must be the one removed.
      entities: { [TYPE]: { batchSize: 4, removeOnComplete: true } },
    });
    const done: string[] = [];
    pod.on('job:completed', (e: { jobId: string }) => done.push(e.jobId));
    pod.registerHandler(TYPE, () => Promise.resolve('ok'));
    await pod.start();
    const queue = new Queue(pod.queueName(TYPE, entity), { connection: connect(), prefix });
    try {
      const outside = await queue.add('outside', { seq: 0 }, { attempts: 2 });
      const key = (suffix: string): string => queueKey(prefix, TYPE, entity, suffix);
      const flowKeys = [':dependencies', ':processed', ':failed', ':unsuccessful'].map((s) =>
        key(outside.id! + s),
      );
      // As a flow's parent keeps them (a set and hashes of its children).
      await redis.sadd(flowKeys[0], 'child');
      for (const k of flowKeys.slice(1)) await redis.hset(k, 'child', '1');
      // BullMQ's add wakes no pod: the engine's enqueues that follow it do.
      await pod.enqueue(TYPE, entity, 'next', { seq: 1 });
      await pod.enqueue(TYPE, entity, 'last', { seq: 2 });
      await waitFor(() => done.length === 3, { timeoutMs: 10_000, message: 'the jobs ran' });
      assert.equal(done[0], outside.id, 'the job BullMQ added ran first');
      assert.deepEqual(await redis.zrange(key('completed'), 0, -1), []);
      assert.equal(await redis.exists(done.map((id) => key(id))), 0, 'their hashes are gone');
      assert.equal(await redis.exists(flowKeys), 0, 'flow keys of the removed job left in Redis');
    } finally {
      await queue.close();
    }
    assert.equal(engines.describeErrors(), '', 'no engine errors');
  });
});
