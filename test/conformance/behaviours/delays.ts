/**
 * A delayed job runs once its delay has passed, without holding back the entity's later jobs;
 * `drainEntity({ delayed: true })` removes it.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Job } from 'bullmq';
import { TYPE, type Behaviour } from '../backend';

export const delays: Behaviour = (backend) => {
  it('runs a delayed job after its delay, later jobs first', async (t) => {
    const ran: { label: string; at: number }[] = [];
    const h = await backend.open(t, {
      handler: (job: Job) => {
        ran.push({ label: (job.data as { label: string }).label, at: h.now() });
        return null;
      },
    });
    const enqueuedAt = h.now();
    await h.engine.enqueue(TYPE, 'e1', 'op', { label: 'later' }, { delay: 400 });
    await h.engine.enqueue(TYPE, 'e1', 'op', { label: 'now' });
    await h.until(() => ran.length === 1, 'the job without delay ran');
    assert.equal(ran[0].label, 'now');
    assert.equal((await h.engine.getBacklog(TYPE, 'e1')).delayed, 1);
    await h.until(() => ran.length === 2, 'the delayed job ran');
    assert.equal(ran[1].label, 'later');
    // Redis keeps delays by its own clock, in whole ms: allow the rounding of one.
    assert.ok(ran[1].at - enqueuedAt >= 399, `ran ${ran[1].at - enqueuedAt} ms after enqueue`);
  });

  it('drainEntity removes waiting jobs, and delayed ones with `delayed: true`', async (t) => {
    const ran: string[] = [];
    const h = await backend.open(t, {
      handler: (job: Job) => {
        ran.push((job.data as { label: string }).label);
        return null;
      },
    });
    await h.engine.pauseEntity(TYPE, 'e1');
    await h.engine.enqueue(TYPE, 'e1', 'op', { label: 'waiting' });
    await h.engine.enqueue(TYPE, 'e1', 'op', { label: 'delayed' }, { delay: 60_000 });
    await h.engine.drainEntity(TYPE, 'e1');
    let backlog = await h.engine.getBacklog(TYPE, 'e1');
    assert.deepEqual([backlog.waiting, backlog.delayed], [0, 1]);
    await h.engine.drainEntity(TYPE, 'e1', { delayed: true });
    backlog = await h.engine.getBacklog(TYPE, 'e1');
    assert.deepEqual([backlog.waiting, backlog.delayed], [0, 0]);
    await h.engine.resumeEntity(TYPE, 'e1');
    await h.engine.enqueue(TYPE, 'e1', 'op', { label: 'after' });
    await h.until(() => ran.length === 1, 'the next job ran');
    assert.deepEqual(ran, ['after']);
  });
};
