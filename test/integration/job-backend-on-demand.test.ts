/**
 * A held entity's BullMQ backend (its key map, `root.forQueue`) is made only when something calls
 * it: running jobs makes none, and a handler calling `job.updateProgress()` / `job.log()` gets a
 * working one, whose writes BullMQ's own `Queue` reads back. The `Job` a handler gets names its
 * queue as BullMQ's `Queue` does.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Queue, RedisQueueBackend, type Job } from 'bullmq';
import type { JobContext } from '../../src';
import { waitFor } from '../../support/async';
import { enqueueSequences } from '../fixtures/engines';
import { integrationSuite } from '../fixtures/integration-suite';
import { entityQueueName } from '../fixtures/queue-state';

const TYPE = 'account';
const ENTITIES = 50;
const JOBS = 4;

describe("a held entity's BullMQ backend", () => {
  const { prefix, engines, connect } = integrationSuite('job-backend-on-demand');

  /** Counts the backends BullMQ makes for single queues while `work` runs. */
  async function countingBackends(work: () => Promise<void>): Promise<number> {
    const proto = RedisQueueBackend.prototype;
    const original = Object.getOwnPropertyDescriptor(proto, 'forQueue')!;
    const forQueue = original.value as (...args: unknown[]) => RedisQueueBackend;
    let made = 0;
    Object.defineProperty(proto, 'forQueue', {
      ...original,
      value(this: RedisQueueBackend, ...args: unknown[]) {
        made += 1;
        return forQueue.apply(this, args);
      },
    });
    try {
      await work();
    } finally {
      Object.defineProperty(proto, 'forQueue', original);
    }
    return made;
  }

  it('is not made to run jobs, and is made for a handler that calls the job', async () => {
    const ids = Array.from({ length: ENTITIES }, (_, i) => `e${i}`);
    const pod = engines.create({ podId: 'worker', logger: false, entities: { [TYPE]: {} } });
    let done = 0;
    const seen: { id: string; queueQualifiedName: string }[] = [];
    pod.registerHandler(TYPE, async (job: Job, ctx: JobContext) => {
      seen.push({ id: job.id!, queueQualifiedName: job.queueQualifiedName });
      if (ctx.entityId === 'e7' && (job.data as { seq: number }).seq === 1) {
        await job.updateProgress(50);
        await job.log('halfway');
      }
    });
    pod.on('job:completed', () => (done += 1));
    await pod.start();

    const quiet = await countingBackends(async () => {
      await enqueueSequences(
        engines,
        TYPE,
        ids.filter((id) => id !== 'e7'),
        JOBS,
      );
      await waitFor(() => done === (ENTITIES - 1) * JOBS, { message: 'every job ran' });
    });
    assert.equal(quiet, 0, 'running jobs made no BullMQ backend');

    const calling = await countingBackends(async () => {
      await enqueueSequences(engines, TYPE, ['e7'], JOBS);
      await waitFor(() => done === ENTITIES * JOBS, { message: "e7's jobs ran" });
    });
    assert.equal(calling, 1, "e7's handler made its entity's backend, once");

    // What the handler wrote through it, read with BullMQ's own Queue.
    // On a client of the suite's, which quits it after the tests (BullMQ leaves a given one open).
    const queue = new Queue(entityQueueName(TYPE, 'e7'), { connection: connect(), prefix });
    after(() => queue.close());
    const e7Jobs = await queue.getJobs(['completed']);
    const second = e7Jobs.find((j) => (j.data as { seq: number }).seq === 1);
    assert.ok(second, "e7's second job is stored");
    assert.equal(second.progress, 50);
    assert.deepEqual((await queue.getJobLogs(second.id!)).logs, ['halfway']);

    // Every job named its queue as BullMQ does.
    const names = new Set(seen.map((s) => s.queueQualifiedName));
    assert.equal(names.size, ENTITIES);
    assert.ok(names.has(queue.qualifiedName), `${queue.qualifiedName} among the jobs' queues`);
    for (const name of names) assert.match(name, new RegExp(`^${prefix}:`));
  });
});
