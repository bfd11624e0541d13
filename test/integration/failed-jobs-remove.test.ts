/**
 * `removeFailedJobs`: removes failed jobs of an entity (one, several, all of them) with their
 * keys, from any pod, and only failed ones; a second call changes nothing and says so.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from 'bullmq';
import { InvalidOptionsError, type AtomicEngine } from '../../src';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';
import { queueKey, scanKeys } from '../fixtures/queue-state';

const TYPE = 'account';

describe('removeFailedJobs', () => {
  const { prefix, engines, redis } = integrationSuite('failedJobsRemove');
  const failed: string[] = [];
  let engine: AtomicEngine;

  async function start(): Promise<AtomicEngine> {
    if (engine) return engine;
    engine = engines.create({
      podId: 'pod1',
      entities: { [TYPE]: { idleTimeoutSeconds: 0.2 } },
    });
    engine.registerHandler(TYPE, (job: Job) => {
      if ((job.data as { fail?: boolean }).fail) throw new Error('nope');
      return 'ok';
    });
    engine.on('job:failed', (e: { jobId: string }) => failed.push(e.jobId));
    await engine.start();
    return engine;
  }

  async function failJobs(entity: string, n: number): Promise<string[]> {
    const ids = await engine.enqueueBulk(
      Array.from({ length: n }, () => ({
        type: TYPE,
        entityId: entity,
        name: 'post',
        data: { fail: true },
      })),
    );
    await waitFor(() => ids.every((id) => failed.includes(id)), { message: `${entity} failed` });
    return ids;
  }

  it('removes one, then several, then all; only failed jobs; idempotent', async () => {
    await start();
    const ids = await failJobs('e1', 5);
    const done = await engine.enqueue(TYPE, 'e1', 'post', { fail: false });
    await waitFor(
      async () => (await redis.zscore(queueKey(prefix, TYPE, 'e1', 'completed'), done)) !== null,
    );

    assert.deepEqual(await engine.removeFailedJobs(TYPE, 'e1', [ids[0]]), {
      removed: [ids[0]],
      notFound: [],
      remaining: 4,
    });
    assert.equal(await redis.exists(queueKey(prefix, TYPE, 'e1', ids[0])), 0, 'its hash is gone');
    assert.deepEqual(await engine.removeFailedJobs(TYPE, 'e1', [ids[2], ids[1], done]), {
      removed: [ids[1], ids[2]],
      notFound: [done],
      remaining: 2,
    });
    assert.notEqual(
      await redis.zscore(queueKey(prefix, TYPE, 'e1', 'completed'), done),
      null,
      'a completed job is not touched',
    );
    assert.deepEqual(await engine.removeFailedJobs(TYPE, 'e1', [ids[0]]), {
      removed: [],
      notFound: [ids[0]],
      remaining: 2,
    });
    assert.deepEqual(await engine.removeFailedJobs(TYPE, 'e1', 'all'), {
      removed: ids.slice(3),
      notFound: [],
      remaining: 0,
    });
    assert.deepEqual(await engine.removeFailedJobs(TYPE, 'e1', 'all'), {
      removed: [],
      notFound: [],
      remaining: 0,
    });
    for (const id of ids)
      assert.deepEqual(await scanKeys(redis, prefix, `${engine.queueName(TYPE, 'e1')}:${id}*`), []);
    assert.equal((await engine.getBacklog(TYPE, 'e1')).failed, 0);
  });

  it('refuses bad input', async () => {
    await start();
    await assert.rejects(engine.removeFailedJobs(TYPE, 'e1', 'x' as 'all'), InvalidOptionsError);
    await assert.rejects(
      engine.removeFailedJobs(TYPE, 'e1', [''.padEnd(1025, 'a')]),
      InvalidOptionsError,
    );
    assert.equal(engines.errors.length, 0, engines.describeErrors());
  });
});
