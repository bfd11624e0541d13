/**
 * `pauseEntity` lets the running job finish and holds the later ones (new ones are accepted);
 * `resumeEntity` runs them in order; `getBacklog` counts them.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Job } from 'bullmq';
import { TYPE, Gates, type Behaviour } from '../backend';

export const pauseResume: Behaviour = (backend) => {
  it('pauses after the running job; resumes with the waiting ones, in order', async (t) => {
    const gates = new Gates(t);
    const ran: string[] = [];
    const h = await backend.open(t, {
      handler: async (job: Job) => {
        const label = (job.data as { label: string }).label;
        ran.push(label);
        if (label === 'first') await gates.wait('first');
        return label;
      },
    });
    const first = h.engine.enqueueAndWait(TYPE, 'e1', 'op', { label: 'first' });
    await h.until(() => ran.length === 1, 'the first job started');
    await h.engine.pauseEntity(TYPE, 'e1');
    await h.engine.enqueue(TYPE, 'e1', 'op', { label: 'second' });
    await h.engine.enqueue(TYPE, 'e1', 'op', { label: 'third' }, { jobId: 'third' });
    const running = await h.engine.getBacklog(TYPE, 'e1');
    assert.deepEqual(running, {
      waiting: 2,
      active: 1,
      delayed: 0,
      failed: 0,
      completed: 0,
      paused: true,
    });
    gates.open('first');
    assert.equal(await first, 'first', 'the running job finished');
    await h.quiet();
    assert.deepEqual(ran, ['first'], 'nothing else ran while paused');

    await h.engine.resumeEntity(TYPE, 'e1');
    await h.until(() => ran.length === 3, 'the waiting jobs ran after resume');
    assert.deepEqual(ran, ['first', 'second', 'third']);
    const done = await h.engine.getBacklog(TYPE, 'e1');
    assert.deepEqual([done.waiting, done.completed, done.paused], [0, 3, false]);
  });
};
