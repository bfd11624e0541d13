/**
 * G2: a failing job keeps its place: its retries (attempts, backoff) run before any later job of
 * the entity, even one enqueued while it waits out its backoff; each failed attempt that will be
 * retried is a `job:retrying` event.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Job } from 'bullmq';
import type { JobContext } from '../../../src';
import { TYPE, settled, type Behaviour } from '../backend';

export const retries: Behaviour = (backend) => {
  it('retries a failing job in place, before later jobs of the entity', async (t) => {
    const log: string[] = [];
    const h = await backend.open(t, {
      entities: { [TYPE]: { attempts: 3, backoff: { type: 'fixed', delay: 150 } } },
      handler: (job: Job, ctx: JobContext) => {
        const { label, failures } = job.data as { label: string; failures: number };
        log.push(`${label}#${ctx.attempt}`);
        if (ctx.attempt <= failures) throw new Error(`${label} attempt ${ctx.attempt} failed`);
        return `${label} ok`;
      },
    });
    const a = await h.engine.enqueue(TYPE, 'e1', 'op', { label: 'A', failures: 2 });
    await h.until(() => log.includes('A#1'), 'A ran once');
    // B and C arrive while A waits out its first backoff.
    const b = await h.engine.enqueue(TYPE, 'e1', 'op', { label: 'B', failures: 0 });
    const c = await h.engine.enqueue(TYPE, 'e1', 'op', { label: 'C', failures: 1 });
    await h.until(() => h.eventsOf('job:completed').length === 3, 'A, B and C completed');

    assert.deepEqual(log, ['A#1', 'A#2', 'A#3', 'B#1', 'C#1', 'C#2']);
    assert.deepEqual(
      h.eventsOf('job:completed').map((e) => [e.jobId, e.result]),
      [
        [a, 'A ok'],
        [b, 'B ok'],
        [c, 'C ok'],
      ],
    );
    assert.deepEqual(
      h.eventsOf('job:retrying').map((e) => [e.jobId, e.attempt, e.delayMs, errorText(e.error)]),
      [
        [a, 1, 150, 'A attempt 1 failed'],
        [a, 2, 150, 'A attempt 2 failed'],
        [c, 1, 150, 'C attempt 1 failed'],
      ],
    );
    assert.deepEqual(h.eventsOf('job:failed'), []);
  });

  it('waits out an exponential backoff between attempts', async (t) => {
    const startedAt: number[] = [];
    const h = await backend.open(t, {
      entities: { [TYPE]: { attempts: 3, backoff: { type: 'exponential', delay: 100 } } },
      handler: (_job: Job, ctx: JobContext) => {
        startedAt.push(h.now());
        if (ctx.attempt < 3) throw new Error('not yet');
        return ctx.attempt;
      },
    });
    const result = h.engine.enqueueAndWait(TYPE, 'e1', 'op', {});
    assert.equal(await settled(h, result, 'the third attempt succeeded'), 3);
    assert.deepEqual(
      h.eventsOf('job:retrying').map((e) => e.delayMs),
      [100, 200],
    );
    const gaps = startedAt.slice(1).map((at, i) => at - startedAt[i]);
    assert.ok(gaps[0] >= 100 && gaps[1] >= 200, `attempts ${gaps.join(' and ')} ms apart`);
  });
};

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
