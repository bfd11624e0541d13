/**
 * The typed events of an engine: `entity:claimed` when it takes an entity, `job:completed` and
 * `job:failed` with the job, its result or error and its timings, `entity:released` when an idle
 * entity is let go; the introspection calls agree with them.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Job } from 'bullmq';
import { TYPE, type Behaviour } from '../backend';

export const events: Behaviour = (backend) => {
  it('emits the life of an entity and its jobs, in order', async (t) => {
    const h = await backend.open(t, {
      entities: { [TYPE]: { idleTimeoutSeconds: 0.3 } },
      handler: (job: Job) => {
        if (job.name === 'bad') throw new Error('no');
        return { ok: job.name };
      },
    });
    const good = await h.engine.enqueue(TYPE, 'e1', 'good', {});
    const bad = await h.engine.enqueue(TYPE, 'e1', 'bad', {});
    await h.until(() => h.eventsOf('job:failed').length === 1, 'both jobs ran');
    const [active] = h.engine.activeEntities();
    assert.equal(active?.entityId, 'e1');
    assert.equal(active.queueName, h.engine.queueName(TYPE, 'e1'));
    assert.equal(active.jobsProcessed, 2);
    assert.deepEqual(
      (await h.engine.listEntities()).map((e) => [e.entityType, e.entityId, e.pod]),
      [[TYPE, 'e1', h.engine.podId]],
    );
    await h.until(() => h.eventsOf('entity:released').length === 1, 'the idle entity released');

    const kinds = h.events
      .map((e) => e.event)
      .filter((k) => k !== 'job:retrying' && k !== 'lease:lost');
    assert.deepEqual(kinds, ['entity:claimed', 'job:completed', 'job:failed', 'entity:released']);
    const [claimed] = h.eventsOf('entity:claimed');
    const [completed] = h.eventsOf('job:completed');
    const [failed] = h.eventsOf('job:failed');
    const [released] = h.eventsOf('entity:released');
    assert.deepEqual(claimed, {
      entityType: TYPE,
      entityId: 'e1',
      fencingToken: claimed.fencingToken,
    });
    for (const e of [completed, failed]) {
      assert.equal(e.entityType, TYPE);
      assert.equal(e.entityId, 'e1');
      assert.equal(e.fencingToken, claimed.fencingToken);
      assert.ok(e.durationMs >= 0 && e.waitMs >= 0, `timings ${e.durationMs} / ${e.waitMs}`);
    }
    assert.deepEqual(
      [completed.jobId, completed.name, completed.result],
      [good, 'good', { ok: 'good' }],
    );
    assert.deepEqual([failed.jobId, failed.name, failed.attempts], [bad, 'bad', 1]);
    assert.equal((failed.error as Error).message, 'no');
    assert.deepEqual(released, { ...claimed, reason: 'released' });
    assert.deepEqual(h.engine.activeEntities(), []);
    const stats = h.engine.getStats();
    assert.deepEqual(
      [stats.claims, stats.releases, stats.jobsCompleted, stats.jobsFailed, stats.activeEntities],
      [1, 1, 1, 1, 0],
    );
  });
};
