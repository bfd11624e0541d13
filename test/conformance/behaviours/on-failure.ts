/**
 * G2 after the last attempt: the job goes to the failed set and the entity continues with its
 * next job (`onFailure: 'continue'`), or pauses (`'pause'`) with its later jobs waiting, in
 * order, until `resumeEntity`.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Job } from 'bullmq';
import type { JobContext } from '../../../src';
import { TYPE, type Behaviour } from '../backend';

function failingA(log: string[]) {
  return (job: Job, ctx: JobContext): string => {
    const label = (job.data as { label: string }).label;
    log.push(`${label}#${ctx.attempt}`);
    if (label === 'A') throw new Error('ledger mismatch');
    return label;
  };
}

export const onFailure: Behaviour = (backend) => {
  it("onFailure 'continue': the failed job is kept, the next jobs run", async (t) => {
    const log: string[] = [];
    const h = await backend.open(t, {
      entities: { [TYPE]: { attempts: 2 } },
      handler: failingA(log),
    });
    const [a] = await h.engine.enqueueBulk(
      ['A', 'B'].map((label) => ({ type: TYPE, entityId: 'e1', name: 'op', data: { label } })),
    );
    await h.until(() => h.eventsOf('job:completed').length === 1, 'B completed');
    assert.deepEqual(log, ['A#1', 'A#2', 'B#1']);
    const failed = h.eventsOf('job:failed');
    assert.deepEqual(
      failed.map((e) => [e.jobId, e.attempts, (e.error as Error).message]),
      [[a, 2, 'ledger mismatch']],
    );
    const backlog = await h.engine.getBacklog(TYPE, 'e1');
    assert.deepEqual(
      { failed: backlog.failed, completed: backlog.completed, paused: backlog.paused },
      { failed: 1, completed: 1, paused: false },
    );
  });

  it("onFailure 'pause': later jobs wait, in order, until the entity is resumed", async (t) => {
    const log: string[] = [];
    const h = await backend.open(t, {
      entities: { [TYPE]: { onFailure: 'pause' } },
      handler: failingA(log),
    });
    await h.engine.enqueueBulk(
      ['A', 'B', 'C'].map((label) => ({ type: TYPE, entityId: 'e1', name: 'op', data: { label } })),
    );
    await h.until(() => h.eventsOf('job:failed').length === 1, 'A failed');
    await h.quiet();
    assert.deepEqual(log, ['A#1'], 'nothing after the failed job ran');
    const paused = await h.engine.getBacklog(TYPE, 'e1');
    assert.deepEqual(
      { waiting: paused.waiting, failed: paused.failed, paused: paused.paused },
      { waiting: 2, failed: 1, paused: true },
    );
    // Other entities of the type are not held back.
    assert.equal(
      await h.engine.enqueueAndWait(TYPE, 'e2', 'op', { label: 'other' }, { timeoutMs: 10_000 }),
      'other',
    );

    await h.engine.resumeEntity(TYPE, 'e1');
    await h.until(() => log.length === 4, 'B and C ran after resume');
    assert.deepEqual(log, ['A#1', 'other#1', 'B#1', 'C#1']);
    assert.equal((await h.engine.getBacklog(TYPE, 'e1')).paused, false);
  });
};
