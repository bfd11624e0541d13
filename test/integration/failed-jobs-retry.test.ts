/**
 * G2, the engine's own retry of failed jobs (`retryFailedJobs`): the jobs go back at the head of
 * the entity's queue, oldest failure first, ahead of the jobs already waiting (a paused entity
 * gets its order back), with their attempts anew; the entity is then run as after an enqueue,
 * from any pod; a second call changes nothing and says so; bad input is refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from 'bullmq';
import {
  InvalidEntityIdError,
  InvalidOptionsError,
  UnknownEntityTypeError,
  type AtomicEngine,
  type JobContext,
} from '../../src';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';
import { queueKey } from '../fixtures/queue-state';

const TYPE = 'account';

describe('retryFailedJobs', () => {
  const { prefix, engines, redis } = integrationSuite('failedJobsRetry');
  /** Labels of the jobs that fail while in it. */
  const failing = new Set<string>();
  /** `<entity> <label>#<attempt>` of every execution, in order. */
  const log: string[] = [];
  const failed: string[] = [];
  let worker: AtomicEngine;
  let producer: AtomicEngine;

  async function start(): Promise<void> {
    if (worker) return;
    worker = engines.create({
      podId: 'worker',
      cronInterval: 100,
      // Long enough that nothing but the retry itself can run the jobs within the test's waits.
      workerDefaults: { heartbeatTTL: 10 },
      entities: {
        [TYPE]: { attempts: 2, idleTimeoutSeconds: 0.2 },
        ledger: { attempts: 1, onFailure: 'pause', idleTimeoutSeconds: 0.2 },
        keeper: { attempts: 1, idleTimeoutSeconds: 60 },
        bulk: { attempts: 1, idleTimeoutSeconds: 0.2, removeOnFail: false },
      },
    });
    const handler = (job: Job, ctx: JobContext) => {
      const label = (job.data as { label: string }).label;
      log.push(`${ctx.entityId} ${label}#${ctx.attempt}`);
      if (failing.has(label)) throw new Error(`${label} failed`);
      return label;
    };
    for (const type of [TYPE, 'ledger', 'keeper', 'bulk']) worker.registerHandler(type, handler);
    worker.on('job:failed', (e: { jobId: string }) => failed.push(e.jobId));
    await worker.start();
    producer = engines.create({
      podId: 'producer',
      processing: false,
      entities: { [TYPE]: {}, ledger: {}, keeper: {}, bulk: {} },
    });
    await producer.start();
  }

  const enqueue = (type: string, entity: string, labels: string[]) =>
    producer.enqueueBulk(
      labels.map((label) => ({ type, entityId: entity, name: 'post', data: { label } })),
    );
  const runsOf = (entity: string) =>
    log.filter((l) => l.startsWith(`${entity} `)).map((l) => l.slice(entity.length + 1));
  const waitList = (type: string, entity: string) =>
    redis.lrange(queueKey(prefix, type, entity, 'wait'), 0, -1);

  it(
    'on a paused entity: the failed job goes back ahead of the waiting ones, and runs first on resume',
    { timeout: 30_000 },
    async () => {
      await start();
      failing.add('A');
      const [a, b, c] = await enqueue('ledger', 'l1', ['A', 'B', 'C']);
      await waitFor(() => failed.includes(a), { message: 'A failed and paused the entity' });
      failing.delete('A');
      const result = await producer.retryFailedJobs('ledger', 'l1', [a]);
      assert.deepEqual(result, { retried: [a], notFound: [], remaining: 0, paused: true });
      assert.deepEqual(await waitList('ledger', 'l1'), [c, b, a], 'A is next, then B, C');
      assert.equal((await producer.getBacklog('ledger', 'l1')).paused, true, 'still paused');

      await producer.resumeEntity('ledger', 'l1');
      await waitFor(() => runsOf('l1').length === 4, { message: 'A, B, C ran after resume' });
      assert.deepEqual(runsOf('l1'), ['A#1', 'A#1', 'B#1', 'C#1']);
    },
  );

  it(
    'all of them: oldest failure first, ahead of waiting jobs, attempts anew; from a producer-only pod',
    { timeout: 30_000 },
    async () => {
      await start();
      failing.add('F1').add('F2').add('F3');
      const ids = await enqueue(TYPE, 'a1', ['F1', 'F2', 'F3']);
      await waitFor(() => ids.every((id) => failed.includes(id)), { message: 'F1-F3 failed' });
      assert.deepEqual(runsOf('a1'), ['F1#1', 'F1#2', 'F2#1', 'F2#2', 'F3#1', 'F3#2']);
      // A job waiting behind them (the entity paused so that it stays waiting).
      await producer.pauseEntity(TYPE, 'a1');
      const [w] = await enqueue(TYPE, 'a1', ['W']);
      failing.clear();

      const result = await producer.retryFailedJobs(TYPE, 'a1', 'all');
      assert.deepEqual(result, { retried: ids, notFound: [], remaining: 0, paused: true });
      assert.deepEqual(await waitList(TYPE, 'a1'), [w, ...[...ids].reverse()]);
      const [f1] = ids;
      const attrs = await redis.hmget(
        queueKey(prefix, TYPE, 'a1', f1),
        'atm',
        'failedReason',
        'finishedOn',
        'aqe',
      );
      assert.deepEqual(attrs, [null, null, null, null], 'the failure is cleared');

      await producer.resumeEntity(TYPE, 'a1');
      await waitFor(() => runsOf('a1').length === 10, { message: 'the retried jobs and W ran' });
      assert.deepEqual(runsOf('a1').slice(6), ['F1#1', 'F2#1', 'F3#1', 'W#1']);
    },
  );

  it('a second call changes nothing and says so; unknown ids are reported', async () => {
    await start();
    failing.add('G');
    const [g] = await enqueue(TYPE, 'a2', ['G']);
    await waitFor(() => failed.includes(g), { message: 'G failed' });
    failing.clear();
    const first = await producer.retryFailedJobs(TYPE, 'a2', [g, 'no-such-job', g]);
    assert.deepEqual(first, {
      retried: [g],
      notFound: ['no-such-job'],
      remaining: 0,
      paused: false,
    });
    const second = await producer.retryFailedJobs(TYPE, 'a2', [g]);
    assert.deepEqual(second, { retried: [], notFound: [g], remaining: 0, paused: false });
    assert.deepEqual(await producer.retryFailedJobs(TYPE, 'a2', 'all'), {
      retried: [],
      notFound: [],
      remaining: 0,
      paused: false,
    });
    assert.deepEqual(await producer.retryFailedJobs(TYPE, 'a2', []), {
      retried: [],
      notFound: [],
      remaining: 0,
      paused: false,
    });
    await waitFor(() => runsOf('a2').length === 3, { message: 'G ran once more' });
    assert.deepEqual(runsOf('a2'), ['G#1', 'G#2', 'G#1']);
  });

  it(
    'runs the entity at once, held idle or at rest, not at the next look',
    { timeout: 30_000 },
    async () => {
      await start();
      failing.add('H').add('K');
      const [h] = await enqueue(TYPE, 'a3', ['H']);
      const [k] = await enqueue('keeper', 'k1', ['K']);
      await waitFor(() => failed.includes(h) && failed.includes(k), { message: 'H, K failed' });
      failing.clear();
      // The rest set and the idle holder look at them only every heartbeatTTL (10 s).
      await waitFor(() => !worker.activeEntities().some((e) => e.entityId === 'a3'), {
        message: 'a3 released',
      });
      assert.equal(
        worker.activeEntities().find((e) => e.entityId === 'k1')?.state,
        'idle',
        'k1 held idle',
      );
      await producer.retryFailedJobs(TYPE, 'a3', [h]);
      await producer.retryFailedJobs('keeper', 'k1', [k]);
      await waitFor(() => runsOf('a3').length === 3 && runsOf('k1').length === 2, {
        timeoutMs: 3000,
        message: 'H and K ran again within 3 s',
      });
      assert.notEqual(await redis.zscore(queueKey(prefix, TYPE, 'a3', 'completed'), h), null);
      assert.notEqual(await redis.zscore(queueKey(prefix, 'keeper', 'k1', 'completed'), k), null);
    },
  );

  it(
    'more than one page (1,000) of failed jobs: the oldest still runs first',
    { timeout: 60_000 },
    async () => {
      await start();
      failing.add('P');
      const n = 1005;
      const ids = await enqueue(
        'bulk',
        'b1',
        Array.from({ length: n }, () => 'P'),
      );
      const failedKey = queueKey(prefix, 'bulk', 'b1', 'failed');
      await waitFor(async () => (await redis.zcard(failedKey)) === n, {
        timeoutMs: 30_000,
        message: `${n} jobs failed`,
      });
      const failedOrder = await redis.zrange(failedKey, 0, -1);
      assert.deepEqual(new Set(failedOrder), new Set(ids));
      await producer.pauseEntity('bulk', 'b1');
      const result = await producer.retryFailedJobs('bulk', 'b1', 'all');
      assert.deepEqual(result.retried, failedOrder, 'in the order they failed');
      assert.deepEqual(
        (await waitList('bulk', 'b1')).reverse(),
        failedOrder,
        'the wait list runs them oldest failure first',
      );
      await producer.drainEntity('bulk', 'b1');
      failing.clear();
    },
  );

  it('refuses bad input before touching Redis', async () => {
    await start();
    const bad = (ids: unknown) => producer.retryFailedJobs(TYPE, 'a1', ids as readonly string[]);
    await assert.rejects(bad('some-job'), InvalidOptionsError);
    await assert.rejects(bad(['']), InvalidOptionsError);
    await assert.rejects(bad([42]), InvalidOptionsError);
    await assert.rejects(bad(null), InvalidOptionsError);
    await assert.rejects(bad(Array.from({ length: 1001 }, (_, i) => `j${i}`)), InvalidOptionsError);
    await assert.rejects(producer.retryFailedJobs('nope', 'a1', 'all'), UnknownEntityTypeError);
    await assert.rejects(producer.retryFailedJobs(TYPE, '', 'all'), InvalidEntityIdError);
    assert.equal(engines.errors.length, 0, engines.describeErrors());
  });
});
