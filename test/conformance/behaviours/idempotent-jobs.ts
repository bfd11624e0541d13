/**
 * A caller's `jobId` is an idempotency key: while a job with it is stored for the entity, another
 * enqueue adds nothing and every `enqueueAndWait` gets that job's one result; `waitForJob`
 * gets a job's result (or error) by id, and JobNotFoundError for an id that is not stored.
 * Engine-made ids are unique across entities.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Job } from 'bullmq';
import { JobFailedError, JobNotFoundError } from '../../../src';
import { TYPE, Gates, track, type Behaviour } from '../backend';

export const idempotentJobs: Behaviour = (backend) => {
  it('stores a job id once; every caller gets its one result', async (t) => {
    const gates = new Gates(t);
    let runs = 0;
    const h = await backend.open(t, {
      handler: async (job: Job) => {
        runs += 1;
        await gates.wait('run');
        return { run: runs, data: job.data as unknown };
      },
    });
    const first = h.engine.enqueueAndWait(TYPE, 'e1', 'pay', { n: 1 }, { jobId: 'pay-1' });
    await h.until(() => runs === 1, 'the job started');
    const second = h.engine.enqueueAndWait(TYPE, 'e1', 'pay', { n: 2 }, { jobId: 'pay-1' });
    assert.equal(await h.engine.enqueue(TYPE, 'e1', 'pay', { n: 3 }, { jobId: 'pay-1' }), 'pay-1');
    gates.open('run');
    const expected = { run: 1, data: { n: 1 } };
    assert.deepEqual(await first, expected);
    assert.deepEqual(await second, expected);
    // Finished and still stored: the stored result at once, nothing runs again.
    assert.deepEqual(
      await h.engine.enqueueAndWait(TYPE, 'e1', 'pay', { n: 4 }, { jobId: 'pay-1' }),
      expected,
    );
    await h.quiet();
    assert.equal(runs, 1);
    // The same id for another entity is another job.
    assert.deepEqual(
      await h.engine.enqueueAndWait(TYPE, 'e2', 'pay', { n: 5 }, { jobId: 'pay-1' }),
      { run: 2, data: { n: 5 } },
    );
  });

  it('waitForJob: the result or error of a job by id; JobNotFoundError if none', async (t) => {
    const gates = new Gates(t);
    const started: string[] = [];
    const h = await backend.open(t, {
      handler: async (job: Job) => {
        started.push(job.name);
        if (job.name === 'slow') await gates.wait('slow');
        if (job.name === 'bad') throw new RangeError('too big');
        return job.name;
      },
    });
    const ok = await h.engine.enqueue(TYPE, 'e1', 'ok', {});
    const bad = await h.engine.enqueue(TYPE, 'e1', 'bad', {});
    const slow = await h.engine.enqueue(TYPE, 'e1', 'slow', {});
    const pending = track(h.engine.waitForJob(TYPE, 'e1', slow));
    await h.until(() => started.includes('slow'), 'slow started');
    await h.quiet();
    assert.equal(pending.settled, false, 'slow is still running');
    // On Redis, ok and bad may be stored with slow, as one batch (`batchSize`): let it end.
    gates.open('slow');
    await h.until(() => pending.settled, 'slow finished');
    assert.equal(pending.value, 'slow');
    assert.equal(await h.engine.waitForJob(TYPE, 'e1', ok), 'ok');
    await assert.rejects(
      h.engine.waitForJob(TYPE, 'e1', bad),
      (err: unknown) =>
        err instanceof JobFailedError && err.name === 'RangeError' && err.message === 'too big',
    );
    await assert.rejects(h.engine.waitForJob(TYPE, 'e1', 'no-such-job'), (err: unknown) => {
      assert.ok(err instanceof JobNotFoundError, `a JobNotFoundError, got ${String(err)}`);
      assert.deepEqual([err.entityType, err.entityId, err.jobId], [TYPE, 'e1', 'no-such-job']);
      return true;
    });
    // An id of another entity is not this entity's job.
    await assert.rejects(h.engine.waitForJob(TYPE, 'e2', ok), JobNotFoundError);
  });

  it('makes job ids unique across entities', async (t) => {
    const h = await backend.open(t, { handler: () => null });
    const ids = await Promise.all(
      ['e1', 'e2', 'e3', 'e1'].map((id) => h.engine.enqueue(TYPE, id, 'op', {})),
    );
    assert.equal(new Set(ids).size, 4, ids.join(', '));
    await h.until(() => h.eventsOf('job:completed').length === 4, 'the jobs ran');
  });
};
