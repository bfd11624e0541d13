/**
 * The operator's calls on failed jobs: list them (per entity, and the entities keeping some),
 * retry them at the head of the entity's queue with their attempts anew, remove them, and skip
 * the next job of a paused entity (its caller gets a JobFailedError `skipped`).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Job } from 'bullmq';
import { EntityNotPausedError, JobFailedError } from '../../../src';
import { TYPE, settled, type Behaviour } from '../backend';

export const failedJobs: Behaviour = (backend) => {
  it('lists, retries and removes failed jobs; skips the next job of a paused entity', async (t) => {
    const fixed = new Set<string>();
    const ran: string[] = [];
    const h = await backend.open(t, {
      handler: (job: Job) => {
        const { label, fail } = job.data as { label: string; fail?: boolean };
        ran.push(label);
        if (fail && !fixed.has(label)) throw new Error(`${label} broke`);
        return label;
      },
    });
    const e = h.engine;
    const [a, b] = await e.enqueueBulk(
      [{ label: 'A', fail: true }, { label: 'B', fail: true }, { label: 'C' }].map((data) => ({
        type: TYPE,
        entityId: 'e1',
        name: 'op',
        data,
      })),
    );
    await h.until(() => h.eventsOf('job:completed').length === 1, 'A and B failed, C completed');

    const listed = await e.listFailedJobs(TYPE, 'e1');
    assert.deepEqual(
      listed.items.map((j) => [j.id, j.name, j.data, j.failedReason, j.attemptsMade]),
      [
        [a, 'op', { label: 'A', fail: true }, 'A broke', 1],
        [b, 'op', { label: 'B', fail: true }, 'B broke', 1],
      ],
    );
    assert.deepEqual([listed.total, listed.nextOffset], [2, null]);
    assert.equal(listed.items[0].error?.message, 'A broke');
    const firstPage = await e.listFailedJobs(TYPE, 'e1', { limit: 1 });
    assert.deepEqual(
      [firstPage.items.map((j) => j.id), firstPage.total, firstPage.nextOffset],
      [[a], 2, 1],
    );
    const entities = await e.listFailedEntities(TYPE);
    assert.deepEqual(
      entities.items.map((x) => [x.entityType, x.entityId, x.failedJobs]),
      [[TYPE, 'e1', 2]],
    );

    fixed.add('B');
    assert.deepEqual(await e.retryFailedJobs(TYPE, 'e1', [b, 'nope']), {
      retried: [b],
      notFound: ['nope'],
      remaining: 1,
      paused: false,
    });
    await h.until(() => h.eventsOf('job:completed').length === 2, 'B ran again and completed');
    assert.deepEqual(ran, ['A', 'B', 'C', 'B']);
    assert.deepEqual((await e.retryFailedJobs(TYPE, 'e1', [b])).notFound, [b], 'retried once');

    assert.deepEqual(await e.removeFailedJobs(TYPE, 'e1', 'all'), {
      removed: [a],
      notFound: [],
      remaining: 0,
    });
    assert.equal((await e.listFailedJobs(TYPE, 'e1')).total, 0);
    assert.deepEqual((await e.listFailedEntities(TYPE)).items, []);

    await assert.rejects(e.skipNextJob(TYPE, 'e1'), EntityNotPausedError);
    await e.pauseEntity(TYPE, 'e1');
    await e.enqueue(TYPE, 'e1', 'op', { label: 'D' }, { jobId: 'd' });
    await e.enqueue(TYPE, 'e1', 'op', { label: 'E' });
    const skippedCall = e.waitForJob(TYPE, 'e1', 'd');
    assert.deepEqual(await e.skipNextJob(TYPE, 'e1', { resume: true }), {
      skipped: 'd',
      resumed: true,
    });
    await assert.rejects(settled(h, skippedCall, 'the skipped job’s caller'), (err: unknown) => {
      assert.ok(err instanceof JobFailedError, `a JobFailedError, got ${String(err)}`);
      assert.equal(err.message, 'skipped');
      return true;
    });
    await h.until(() => h.eventsOf('job:completed').length === 3, 'E ran after the resume');
    assert.deepEqual(ran, ['A', 'B', 'C', 'B', 'E'], 'D never ran');
    const skipped = await e.listFailedJobs(TYPE, 'e1');
    assert.deepEqual(
      skipped.items.map((j) => [j.id, j.failedReason]),
      [['d', 'skipped']],
    );
  });

  it('refuses bad selections and pages', async (t) => {
    const h = await backend.open(t, { handler: () => null });
    const e = h.engine;
    const calls: Promise<unknown>[] = [
      e.listFailedJobs(TYPE, 'e1', { limit: 0 }),
      e.listFailedJobs(TYPE, 'e1', { offset: -1 }),
      e.retryFailedJobs(TYPE, 'e1', 'some' as never),
      e.removeFailedJobs(TYPE, 'e1', [''] as never),
      e.skipNextJob(TYPE, 'e1', { resume: 'yes' } as never),
    ];
    for (const call of calls) await assert.rejects(call, { name: 'InvalidOptionsError' });
    await assert.rejects(e.listFailedEntities('nope'), { name: 'UnknownEntityTypeError' });
    await assert.rejects(e.listFailedJobs(TYPE, ''), { name: 'InvalidEntityIdError' });
  });
};
