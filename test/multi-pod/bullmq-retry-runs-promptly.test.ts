/**
 * G2, failed jobs put back by BullMQ's own tools: a job that failed its last attempt is moved
 * back to wait with `job.retry()` (a BullMQ `Job` from `Job.fromId`) or `Queue.retryJobs`
 * (what bull-board's and Taskforce's retry buttons call), from a process that is no pod. Neither
 * wakes anyone: the entity must still run it within heartbeatTTL + cronInterval (+ a margin),
 * whether its holder idled out (the entity is at rest) or still holds it idle.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Job, Queue } from 'bullmq';
import { until, waitFor } from '../../support/async';
import { newRedis } from '../helpers/redis';
import { readLedger } from '../fixtures/ledger';
import { multiPodSuite } from '../fixtures/multi-pod-suite';
import { leaseKey, queueKey } from '../fixtures/queue-state';
import type { AtomicEngine } from '../../src';

const HEARTBEAT_TTL_S = 1;
const CRON_INTERVAL_MS = 200;
/** What the README promises, plus room for a claim, a take and the handler on a busy machine. */
const BOUND_MS = HEARTBEAT_TTL_S * 1000 + CRON_INTERVAL_MS;
const MARGIN_MS = 1500;
/** Released 300 ms after its queue empties. */
const RESTING = 'account';
/** Held idle far longer than the bound (a minute). */
const HELD = 'keeper';

type Tool = 'job.retry()' | 'Queue.retryJobs';

describe("failed jobs put back by BullMQ's tools", () => {
  const { prefix, fleet, engines, redis } = multiPodSuite('bullmqRetry');
  const connection = newRedis({ maxRetriesPerRequest: null });
  const queues: Queue[] = [];
  let producer: AtomicEngine;

  before(async () => {
    await fleet.startMany(
      [1, 2].map((i) => ({
        podId: `pod${i}`,
        delayMs: 0,
        entityType: RESTING,
        heartbeatTTL: HEARTBEAT_TTL_S,
        cronInterval: CRON_INTERVAL_MS,
        idleTimeoutSeconds: 0.3,
        extraTypes: { [HELD]: { idleTimeoutSeconds: 60 } },
      })),
    );
    producer = engines.create({
      podId: 'producer',
      processing: false,
      entities: { [RESTING]: {}, [HELD]: {} },
    });
    await producer.start();
  });

  after(async () => {
    await Promise.all(queues.map((q) => q.close()));
    await connection.quit();
  });

  /** Enqueues one job that fails while `switchKey` exists; resolves once it is in failed. */
  async function failOne(type: string, entity: string, switchKey: string): Promise<string> {
    await redis.set(switchKey, '1');
    const jobId = await producer.enqueue(type, entity, 'increment', { failIf: switchKey });
    await waitFor(
      async () => (await redis.zscore(queueKey(prefix, type, entity, 'failed'), jobId)) !== null,
      { timeoutMs: 10_000, message: `job ${jobId} of ${type} ${entity} failed` },
    );
    return jobId;
  }

  /** Puts a failed job back with BullMQ's own API, on the entity's queue. */
  async function putBack(tool: Tool, type: string, entity: string, jobId: string): Promise<void> {
    const queue = new Queue(producer.queueName(type, entity), { connection, prefix });
    queues.push(queue);
    if (tool === 'job.retry()') {
      const job = await Job.fromId(queue, jobId);
      assert.ok(job, `BullMQ reads job ${jobId}`);
      await job.retry('failed');
    } else {
      await queue.retryJobs({ state: 'failed' });
    }
    assert.equal(await queue.getJobState(jobId), 'waiting', `${tool} moved the job to wait`);
  }

  async function runsWithinBound(
    tool: Tool,
    type: string,
    entity: string,
    whileHeld: boolean,
  ): Promise<void> {
    const switchKey = `${prefix}:failIf:${entity}`;
    const jobId = await failOne(type, entity, switchKey);
    const lease = leaseKey(prefix, type, entity);
    if (whileHeld) {
      // The holder ran the job, failed it and marked itself idle: it keeps the lease a minute.
      await waitFor(async () => (await redis.hget(lease, 'i')) === '1', {
        message: `${type} ${entity} held idle`,
      });
    } else {
      await waitFor(async () => (await redis.exists(lease)) === 0, {
        message: `${type} ${entity} released`,
      });
    }
    const holder = await redis.hget(lease, 't');
    await redis.del(switchKey); // the cause is fixed: the job will succeed now

    const startedAt = Date.now();
    await putBack(tool, type, entity, jobId);
    const completed = queueKey(prefix, type, entity, 'completed');
    const ran = await until(async () => (await redis.zscore(completed, jobId)) !== null, {
      timeoutMs: BOUND_MS + MARGIN_MS,
      intervalMs: 20,
    });
    const elapsed = Date.now() - startedAt;
    assert.ok(
      ran,
      `job ${jobId} put back by ${tool} did not run within ${BOUND_MS} + ${MARGIN_MS} ms ` +
        `(${whileHeld ? 'holder idle' : 'entity at rest'})`,
    );
    if (whileHeld)
      assert.equal(await redis.hget(lease, 't'), holder, 'the same holder ran it, no new claim');
    assert.equal(await redis.zcard(queueKey(prefix, type, entity, 'failed')), 0);
    console.log(`${tool}, ${whileHeld ? 'held idle' : 'at rest'}: ran after ${elapsed} ms`);
  }

  for (const tool of ['job.retry()', 'Queue.retryJobs'] as const) {
    it(`${tool} on an entity at rest: runs within the bound`, { timeout: 30_000 }, async () => {
      await runsWithinBound(tool, RESTING, tool === 'job.retry()' ? 'r1' : 'r2', false);
    });

    it(`${tool} on an entity held idle: runs within the bound`, { timeout: 30_000 }, async () => {
      await runsWithinBound(tool, HELD, tool === 'job.retry()' ? 'h1' : 'h2', true);
    });
  }

  it('no pod and no engine reported an error', () => {
    const errors = readLedger(fleet.ledgerFiles).filter((r) => r.event === 'error');
    assert.deepEqual(errors, []);
    assert.equal(engines.errors.length, 0, engines.describeErrors());
    fleet.passed();
  });
});
