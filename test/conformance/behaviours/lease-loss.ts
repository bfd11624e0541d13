/**
 * G1/G4: when an entity's lease is lost while its job runs (another pod took it over), the job
 * runs again, first, with a larger fencing token; what the old run returns is dropped (it never
 * completes the job), its engine reports `lease:lost`, and callers get the new run's result.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Job } from 'bullmq';
import type { JobContext } from '../../../src';
import { TYPE, Gates, track, type Behaviour } from '../backend';

export const leaseLoss: Behaviour = (backend) => {
  it('runs the job again with a larger token; the old run is dropped', async (t) => {
    const gates = new Gates(t);
    const runs: { label: string; token: number }[] = [];
    const h = await backend.open(t, {
      // A long lease on Redis: only the test's takeover ends it.
      options: { workerDefaults: { heartbeatTTL: 30 } },
      handler: async (job: Job, ctx: JobContext) => {
        const label = (job.data as { label: string }).label;
        const run = runs.filter((r) => r.label === label).length + 1;
        runs.push({ label, token: ctx.fencingToken });
        await gates.wait(`${label}#${run}`);
        return `${label}#${run}@${ctx.fencingToken}`;
      },
    });
    // J is stored before K (enqueueAndWait stores after subscribing: it could come second).
    const j = await h.engine.enqueue(TYPE, 'e1', 'op', { label: 'J' });
    await h.engine.enqueue(TYPE, 'e1', 'op', { label: 'K' });
    const call = track(h.engine.waitForJob(TYPE, 'e1', j, { timeoutMs: 20_000 }));
    await h.until(() => runs.length === 1, 'J started');
    await h.loseLease(TYPE, 'e1');
    await h.until(() => runs.length === 2, 'J started again');
    assert.deepEqual(
      runs.map((r) => r.label),
      ['J', 'J'],
      'J runs again before K',
    );
    const [old, again] = runs;
    assert.ok(again.token > old.token, `a larger token: ${old.token} then ${again.token}`);

    gates.open('J#1');
    await h.until(() => h.eventsOf('lease:lost').length === 1, 'the old holder lost its lease');
    const [lost] = h.eventsOf('lease:lost');
    assert.deepEqual([lost.entityId, lost.fencingToken, lost.reason], ['e1', old.token, 'lost']);
    await h.quiet();
    assert.equal(call.settled, false, 'the old run’s result is not the job’s');
    assert.deepEqual(h.eventsOf('job:completed'), []);

    gates.open('J#2');
    gates.open('K#1');
    await h.until(() => h.eventsOf('job:completed').length === 2, 'J and K completed');
    assert.equal(call.value, `J#2@${again.token}`);
    assert.deepEqual(
      h.eventsOf('job:completed').map((e) => [e.result, e.fencingToken]),
      [
        [`J#2@${again.token}`, again.token],
        [`K#1@${again.token}`, again.token],
      ],
    );
  });
};
