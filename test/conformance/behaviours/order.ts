/**
 * G1/G2: jobs of one entity run one at a time, in enqueue order; different entities run in
 * parallel; `concurrency` above 1 runs an entity's jobs side by side.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Job } from 'bullmq';
import { TYPE, Gates, type Behaviour } from '../backend';

export const order: Behaviour = (backend) => {
  it('runs the jobs of one entity one at a time, in enqueue order', async (t) => {
    const log: string[] = [];
    let running = 0;
    let overlaps = 0;
    const h = await backend.open(t, {
      handler: async (job: Job) => {
        running += 1;
        if (running > 1) overlaps += 1;
        log.push((job.data as { n: number }).n.toString());
        await new Promise((resolve) => setImmediate(resolve));
        running -= 1;
        return null;
      },
    });
    const singles = Array.from({ length: 8 }, (_, n) => h.engine.enqueue(TYPE, 'e1', 'op', { n }));
    const bulk = h.engine.enqueueBulk(
      Array.from({ length: 8 }, (_, i) => ({
        type: TYPE,
        entityId: 'e1',
        name: 'op',
        data: { n: 8 + i },
      })),
    );
    const ids = [...(await Promise.all(singles)), ...(await bulk)];
    assert.equal(new Set(ids).size, 16, 'one id per job');
    await h.until(() => h.eventsOf('job:completed').length === 16, '16 jobs completed');
    assert.deepEqual(
      log,
      Array.from({ length: 16 }, (_, n) => n.toString()),
    );
    assert.equal(overlaps, 0, 'never two at once');
    assert.deepEqual(
      h.eventsOf('job:completed').map((e) => e.jobId),
      ids,
      'completed in enqueue order',
    );
  });

  it('runs different entities in parallel', async (t) => {
    const gates = new Gates(t);
    const started: string[] = [];
    const h = await backend.open(t, {
      handler: async (job: Job) => {
        const label = (job.data as { label: string }).label;
        started.push(label);
        if (label === 'slow') await gates.wait('slow');
        return label;
      },
    });
    const slow = h.engine.enqueueAndWait(TYPE, 'e1', 'op', { label: 'slow' });
    await h.until(() => started.includes('slow'), 'the slow job started');
    assert.equal(await h.engine.enqueueAndWait(TYPE, 'e2', 'op', { label: 'fast' }), 'fast');
    const e1Next = h.engine.enqueueAndWait(TYPE, 'e1', 'op', { label: 'after-slow' });
    await h.quiet();
    assert.deepEqual(started, ['slow', 'fast'], "e1's next job waits for its running one");
    gates.open('slow');
    assert.equal(await slow, 'slow');
    assert.equal(await e1Next, 'after-slow');
  });

  it('runs up to `concurrency` jobs of an entity at once', async (t) => {
    const gates = new Gates(t);
    const started: string[] = [];
    const h = await backend.open(t, {
      entities: { [TYPE]: { workerConfig: { concurrency: 2 } } },
      handler: async (job: Job) => {
        const label = (job.data as { label: string }).label;
        started.push(label);
        await gates.wait(label);
        return label;
      },
    });
    for (const label of ['a', 'b', 'c']) await h.engine.enqueue(TYPE, 'e1', 'op', { label });
    await h.until(() => started.length === 2, 'two jobs running side by side');
    await h.quiet();
    assert.deepEqual(started, ['a', 'b'], 'not a third');
    gates.open('a');
    await h.until(() => started.length === 3, 'the third job started once one finished');
    gates.open('b');
    gates.open('c');
    await h.until(() => h.eventsOf('job:completed').length === 3, 'all three completed');
  });
};
