/**
 * `bullBoardQueues` gives BullMQ `Queue` objects for the busiest entities (by backlog) and those
 * with failed jobs, each once; BullMQ's own readers (what bull-board calls) see their jobs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bullBoardQueues, type JobContext } from '../../src';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';

const TYPE = 'acct';

describe('bullBoardQueues', () => {
  const { engines, connect } = integrationSuite('bullBoard');

  it('gives the busiest entities and those with failed jobs, which BullMQ reads', async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const engine = engines.create({ entities: { [TYPE]: { idleTimeoutSeconds: 30 } } });
    engine.registerHandler(TYPE, async (_job, ctx: JobContext) => {
      if (ctx.entityId === 'broken') throw new Error('broken');
      await gate;
    });
    try {
      await engine.start();
      const jobs = { big: 6, mid: 4, small: 2, broken: 2 };
      await engine.enqueueBulk(
        Object.entries(jobs).flatMap(([id, n]) =>
          Array.from({ length: n }, () => ({ type: TYPE, entityId: id, name: 'j', data: {} })),
        ),
      );
      await waitFor(
        async () =>
          (await engine.getBacklog(TYPE, 'broken')).failed === 2 &&
          (
            await Promise.all(['big', 'mid', 'small'].map((id) => engine.getBacklog(TYPE, id)))
          ).every((b) => b.active >= 1),
        { timeoutMs: 15_000, message: 'broken failed twice, the others run their first batch' },
      );

      const connection = connect();
      const queues = await bullBoardQueues(engine, { connection, busiest: 2 });
      try {
        assert.deepEqual(
          queues.map((q) => q.name),
          ['big', 'mid', 'broken'].map((id) => engine.queueName(TYPE, id)),
        );
        const counts = await Promise.all(
          queues.map((q) => q.getJobCounts('waiting', 'active', 'failed')),
        );
        // The runner holds a batch in active, the rest waits: BullMQ sees every job.
        assert.deepEqual(
          counts.map((c) => [c.waiting + c.active, c.failed]),
          [
            [6, 0],
            [4, 0],
            [0, 2],
          ],
        );
      } finally {
        await Promise.all(queues.map((q) => q.close()));
      }

      const busiestOnly = await bullBoardQueues(engine, { connection, busiest: 1, failed: false });
      assert.deepEqual(
        busiestOnly.map((q) => q.name),
        [engine.queueName(TYPE, 'big')],
      );
      await Promise.all(busiestOnly.map((q) => q.close()));
    } finally {
      open(); // the held jobs finish, so that the engine can stop
    }
    assert.equal(engines.describeErrors(), '');
  });
});
