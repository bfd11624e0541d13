/**
 * G2, failed jobs are inspectable from any pod: `listFailedJobs` pages through an entity's failed
 * jobs (id, name, data, reason, attempts, time, the stored error with its own fields), and
 * `listFailedEntities` through the entities of a type that keep some, from an index the pods keep
 * in their shared slot: written when a job fails, pruned once an entity keeps none (after a
 * retry or a removal, and by the cron manager after BullMQ's own tools removed them), and
 * written by the sweep for an entity whose holder died (it may have died before writing it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Queue, type Job } from 'bullmq';
import {
  InvalidEntityIdError,
  InvalidOptionsError,
  UnknownEntityTypeError,
  type AtomicEngine,
} from '../../src';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';
import { queueKey } from '../fixtures/queue-state';

const TYPE = 'account';

class LedgerMismatchError extends Error {
  readonly status = 409;
  constructor(readonly account: string) {
    super(`ledger mismatch on ${account}`);
    this.name = 'LedgerMismatchError';
  }
}

describe('listing failed jobs and the entities that keep them', () => {
  const { prefix, engines, redis } = integrationSuite('failedJobsListing');
  const failed: string[] = [];
  let engine: AtomicEngine;
  const indexKey = (type: string) => `${prefix}:{__aq}:failed:${type}`;
  const ref = (type: string, id: string) => JSON.stringify([type, id]);

  async function start(): Promise<AtomicEngine> {
    if (engine) return engine;
    engine = engines.create({
      podId: 'pod1',
      cronInterval: 100,
      workerDefaults: { heartbeatTTL: 0.6 },
      entities: { [TYPE]: { attempts: 2, idleTimeoutSeconds: 0.2 }, other: {} },
    });
    engine.registerHandler(TYPE, (job: Job, ctx) => {
      const data = job.data as { fail?: boolean };
      if (data.fail) throw new LedgerMismatchError(ctx.entityId);
      return 'ok';
    });
    engine.registerHandler('other', () => 'ok');
    engine.on('job:failed', (e: { jobId: string }) => failed.push(e.jobId));
    await engine.start();
    return engine;
  }

  async function failJobs(entity: string, n: number): Promise<string[]> {
    const ids = await engine.enqueueBulk(
      Array.from({ length: n }, (_, i) => ({
        type: TYPE,
        entityId: entity,
        name: 'post',
        data: { fail: true, i },
      })),
    );
    await waitFor(() => ids.every((id) => failed.includes(id)), {
      message: `${n} jobs of ${entity} failed`,
    });
    return ids;
  }

  it('pages through an entity’s failed jobs, oldest failure first, with their error', async () => {
    await start();
    const ids = await failJobs('e1', 3);
    await engine.enqueueAndWait(TYPE, 'e1', 'post', { fail: false });

    const first = await engine.listFailedJobs(TYPE, 'e1', { limit: 2 });
    assert.equal(first.total, 3);
    assert.equal(first.nextOffset, 2);
    assert.deepEqual(
      first.items.map((j) => j.id),
      ids.slice(0, 2),
    );
    const [job] = first.items;
    assert.equal(job.name, 'post');
    assert.deepEqual(job.data, { fail: true, i: 0 });
    assert.equal(job.failedReason, 'ledger mismatch on e1');
    assert.equal(job.attemptsMade, 2);
    assert.ok(job.finishedOn !== null && Math.abs(job.finishedOn - Date.now()) < 60_000);
    assert.equal(job.error?.name, 'LedgerMismatchError');
    assert.equal(job.error?.message, 'ledger mismatch on e1');
    assert.deepEqual(job.error?.fields, { status: 409, account: 'e1' });
    assert.match(job.error?.stack ?? '', /LedgerMismatchError: ledger mismatch/);

    const second = await engine.listFailedJobs(TYPE, 'e1', { offset: 2, limit: 2 });
    assert.deepEqual(
      second.items.map((j) => j.id),
      ids.slice(2),
    );
    assert.equal(second.nextOffset, null);
    const none = await engine.listFailedJobs(TYPE, 'never-failed');
    assert.deepEqual(none, { items: [], total: 0, nextOffset: null });
  });

  it('pages through the entities of a type that keep failed jobs, earliest first', async () => {
    await start();
    await failJobs('e2', 1);
    await failJobs('e3', 2);
    const all = await engine.listFailedEntities(TYPE);
    const mine = all.items.filter((e) => ['e1', 'e2', 'e3'].includes(e.entityId));
    assert.deepEqual(
      mine.map((e) => [e.entityId, e.failedJobs]),
      [
        ['e1', 3],
        ['e2', 1],
        ['e3', 2],
      ],
    );
    assert.ok(mine[0].firstFailedAt <= mine[1].firstFailedAt);
    assert.equal(mine[0].entityType, TYPE);
    const page = await engine.listFailedEntities(TYPE, { offset: 1, limit: 1 });
    assert.equal(page.items[0].entityId, all.items[1].entityId);
    assert.equal(page.total, all.total);
    assert.equal(page.nextOffset, 2);
    assert.deepEqual(await engine.listFailedEntities('other'), {
      items: [],
      total: 0,
      nextOffset: null,
    });
  });

  it('drops an entity from the index once it keeps no failed job: retry, removal', async () => {
    await start();
    const [a] = await failJobs('e4', 1);
    const [b] = await failJobs('e5', 1);
    assert.notEqual(await redis.zscore(indexKey(TYPE), ref(TYPE, 'e4')), null);
    await engine.removeFailedJobs(TYPE, 'e4', [a]);
    assert.equal(await redis.zscore(indexKey(TYPE), ref(TYPE, 'e4')), null, 'removed: dropped');
    await engine.retryFailedJobs(TYPE, 'e5', [b]);
    assert.equal(await redis.zscore(indexKey(TYPE), ref(TYPE, 'e5')), null, 'retried: dropped');
    const listed = (await engine.listFailedEntities(TYPE, { limit: 1000 })).items;
    assert.ok(!listed.some((e) => e.entityId === 'e4' || e.entityId === 'e5'));
  });

  it(
    'an entity the sweep finds without a holder is listed only if it keeps failed jobs, and a stale entry goes soon',
    { timeout: 30_000 },
    async () => {
      await start();
      // At rest with a completed job and nothing failed: its next look in the rest set is the
      // completed job's age away (an hour).
      await engine.enqueueAndWait(TYPE, 'e8', 'post', { fail: false });
      const restKey = `${prefix}:{__aq}:rest`;
      const sweepKey = `${prefix}:{__aq}:index`;
      const e8 = ref(TYPE, 'e8');
      const lookFarAway = async (): Promise<boolean> => {
        const [score, [now]] = await Promise.all([redis.zscore(restKey, e8), redis.time()]);
        return score !== null && Number(score) > Number(now) * 1000 + 60_000;
      };
      await waitFor(lookFarAway, { message: 'e8 at rest, its next look an hour away' });
      assert.equal(await redis.zscore(indexKey(TYPE), e8), null);

      // A sweep-index entry left behind (a heartbeat that landed after the release): the sweep
      // finds e8 without a holder, has the rest set look at it now, and must not note it among
      // the entities with failed jobs, not even until that look (a listing would count it).
      await redis.zadd(sweepKey, 0, e8);
      let noted = 0;
      await waitFor(
        async () => {
          if ((await redis.zscore(indexKey(TYPE), e8)) !== null) noted += 1;
          return (await redis.zscore(sweepKey, e8)) === null && (await lookFarAway());
        },
        { intervalMs: 5, message: 'the sweep handled e8 and the rest set looked at it' },
      );
      assert.equal(noted, 0, 'e8, which keeps no failed job, was noted among those that do');

      // A stale entry (its failed jobs went without the engine) is dropped at the rest set's
      // look, which the sweep makes now rather than in an hour.
      await redis.zadd(indexKey(TYPE), Date.now(), e8);
      await redis.zadd(sweepKey, 0, e8);
      await waitFor(async () => (await redis.zscore(sweepKey, e8)) === null, {
        message: 'the sweep handled e8',
      });
      await waitFor(async () => (await redis.zscore(indexKey(TYPE), e8)) === null, {
        timeoutMs: 10_000,
        message: 'e8, which keeps no failed job, dropped from the index of those that do',
      });
      const listed = await engine.listFailedEntities(TYPE, { limit: 1000 });
      assert.ok(!listed.items.some((e) => e.entityId === 'e8'));
    },
  );

  it(
    'the cron manager prunes what BullMQ’s tools removed, and notes what a dead holder missed',
    { timeout: 30_000 },
    async () => {
      await start();
      // e6 keeps a completed job too: at rest it stays, with nothing failed once BullMQ removes it.
      await engine.enqueueAndWait(TYPE, 'e6', 'post', { fail: false });
      const [c] = await failJobs('e6', 1);
      await failJobs('e7', 1);
      await waitFor(() => !engine.activeEntities().some((e) => ['e6', 'e7'].includes(e.entityId)), {
        message: 'e6 and e7 at rest',
      });
      const queue = new Queue(engine.queueName(TYPE, 'e6'), { connection: redis, prefix });
      try {
        const job = await queue.getJob(c);
        await job?.remove();
      } finally {
        await queue.close();
      }
      assert.equal(await redis.zcard(queueKey(prefix, TYPE, 'e6', 'failed')), 0);
      // What a holder that died between failing e7's job and noting e7 leaves: no entry in the
      // index of entities with failed jobs, and a sweep-index entry that came due with no lease.
      await redis.zrem(indexKey(TYPE), ref(TYPE, 'e7'));
      await redis.zadd(`${prefix}:{__aq}:index`, 0, ref(TYPE, 'e7'));
      let seen = {};
      await waitFor(
        async () => {
          const at = (key: string, id: string) => redis.zscore(key, ref(TYPE, id));
          const [e6, e7] = [await at(indexKey(TYPE), 'e6'), await at(indexKey(TYPE), 'e7')];
          seen = {
            failedIndex: { e6, e7 },
            rest: {
              e6: await at(`${prefix}:{__aq}:rest`, 'e6'),
              e7: await at(`${prefix}:{__aq}:rest`, 'e7'),
            },
            sweepIndex: {
              e6: await at(`${prefix}:{__aq}:index`, 'e6'),
              e7: await at(`${prefix}:{__aq}:index`, 'e7'),
            },
            redisTime: (await redis.time())[0],
          };
          return e6 === null && e7 !== null;
        },
        {
          // About a lease TTL and a sweep (1.2 s); more on a loaded machine, where a late
          // heartbeat makes the pod wait out a warm-up before it notes an entity it finds gone.
          timeoutMs: 15_000,
          message: () => `e6 pruned at rest, e7 noted by the sweep; saw ${JSON.stringify(seen)}`,
        },
      );
      const listed = (await engine.listFailedEntities(TYPE, { limit: 1000 })).items;
      assert.ok(listed.some((e) => e.entityId === 'e7'));
      assert.ok(!listed.some((e) => e.entityId === 'e6'));
    },
  );

  it('refuses bad input', async () => {
    await start();
    for (const opts of [{ limit: 0 }, { limit: 1001 }, { offset: -1 }, { limit: 1.5 }]) {
      await assert.rejects(engine.listFailedJobs(TYPE, 'e1', opts), InvalidOptionsError);
      await assert.rejects(engine.listFailedEntities(TYPE, opts), InvalidOptionsError);
    }
    await assert.rejects(engine.listFailedJobs('nope', 'e1'), UnknownEntityTypeError);
    await assert.rejects(engine.listFailedEntities('nope'), UnknownEntityTypeError);
    await assert.rejects(engine.listFailedJobs(TYPE, null), InvalidEntityIdError);
    assert.equal(engines.errors.length, 0, engines.describeErrors());
  });
});
