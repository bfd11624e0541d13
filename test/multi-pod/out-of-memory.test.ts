/**
 * Redis out of memory (`maxmemory` with `noeviction`), with pod processes on a Redis of the
 * test's own (the counter handler's store stays on the test Redis):
 * - under the limit, an enqueue rejects with RedisRefusedError (reason `out-of-memory`, Redis's
 *   reply as the cause) and leaves nothing of its job; pods start, claim, run, renew leases,
 *   complete, idle, release and tidy released entities while Redis stays over the limit, and
 *   no runner closes on an error;
 * - with the default retention, the drained backlog frees memory by itself (completed jobs past
 *   `removeOnComplete.count`), and a refused enqueue, retried with its job id, goes through.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { RedisRefusedError } from '../../src';
import { startLocalRedis, type LocalRedis } from '../../scripts/local-redis';
import { mapLimit, until, waitFor } from '../../support/async';
import { executionsOf, readLedger, type LedgerRecord } from '../fixtures/ledger';
import {
  assertRodeItOut,
  completedJobs,
  enqueueBacklog,
  ownRedisWorld,
  redisInfo,
  rejection,
  stopAndRead,
  TYPE,
} from '../fixtures/own-redis';
import { heartbeats, queueKey } from '../fixtures/queue-state';

const HEARTBEAT_TTL_S = 1.5;
const POD_OPTIONS = {
  delayMs: 2,
  heartbeatTTL: HEARTBEAT_TTL_S,
  cronInterval: 300,
  idleTimeoutSeconds: 1,
};
const PAD = 'x'.repeat(1024);

async function usedMemory(redis: Redis): Promise<number> {
  return Number(await redisInfo(redis, 'memory', 'used_memory'));
}

function assertOutOfMemory(err: unknown): asserts err is RedisRefusedError {
  assert.ok(err instanceof RedisRefusedError, `a RedisRefusedError, got ${String(err)}`);
  assert.equal(err.code, 'REDIS_REFUSED');
  assert.equal(err.reason, 'out-of-memory');
  assert.match(err.message, /out of memory/);
  assert.ok(err.cause instanceof Error, 'the Redis client error is kept as the cause');
  assert.match(err.cause.message, /^OOM command not allowed/);
}

/** Under memory pressure alone no lease moves: renewals and job moves go on. */
function assertNoLeaseLost(records: readonly LedgerRecord[]): void {
  assert.deepEqual(
    records.filter((r) => r.event === 'leaseLost').map((r) => r.entity),
    [],
    'no lease lost',
  );
}

async function limitMemory(admin: Redis, bytes: number): Promise<void> {
  await admin.config('SET', 'maxmemory', String(Math.round(bytes)));
}

describe('Redis out of memory', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  /** A Redis of the test's own (noeviction; the limit is set by the test) with pods on it. */
  const world = async (name: string) => {
    const redis: LocalRedis = await startLocalRedis({ maxmemory: '1gb' });
    cleanups.push(() => redis.stop());
    const w = await ownRedisWorld(name, redis);
    cleanups.push(() => w.dispose());
    return w;
  };

  it(
    'refuses enqueues with a typed error and writes nothing; pods keep running, renewing and releasing',
    { timeout: 120_000 },
    async (t) => {
      const w = await world('oomUnderLimit');
      const { admin, prefix, producer, fleet } = w;
      const ENTITIES = ['e0', 'e1', 'e2', 'e3', 'e4', 'e5'];
      const JOBS = 40;
      // A backlog, the first job of `slow` longer than two lease TTLs: its lease and the job's
      // lock must be renewed while Redis is full, or another pod would take it over.
      await enqueueBacklog(producer, ENTITIES, JOBS, { pad: PAD });
      const longMs = Math.round(HEARTBEAT_TTL_S * 1000 * 2.5);
      await producer.enqueue(TYPE, 'slow', 'increment', { seq: 0, delayMs: longMs });
      // Something else fills Redis (8 MB), and the limit is set 4 MB below what is used: the
      // engine's own clean-up can't bring Redis under it, so it stays full for the whole test.
      await admin.setrange('ballast', 8 * 1024 * 1024 - 1, 'x');
      const limit = (await usedMemory(admin)) - 4 * 1024 * 1024;
      await limitMemory(admin, limit);

      const refused = await rejection(
        producer.enqueue(TYPE, 'e0', 'increment', { seq: JOBS, pad: PAD }, { jobId: 'refused-1' }),
      );
      assertOutOfMemory(refused);
      const awaited = await rejection(
        producer.enqueueAndWait(TYPE, 'e1', 'increment', { seq: JOBS }, { jobId: 'refused-2' }),
      );
      assertOutOfMemory(awaited);
      for (const [entity, id] of [
        ['e0', 'refused-1'],
        ['e1', 'refused-2'],
      ]) {
        assert.equal(await admin.exists(queueKey(prefix, TYPE, entity, id)), 0, `${id}: no job`);
        const wait = await admin.lrange(queueKey(prefix, TYPE, entity, 'wait'), 0, -1);
        assert.ok(!wait.includes(id), `${id} is not waiting`);
        assert.equal(wait.length, JOBS, `${entity}: the accepted backlog is whole`);
      }

      // Pods started while Redis is full drain the backlog, every job once and in order.
      const pods = await w.startPods(2, POD_OPTIONS);
      const total = ENTITIES.length * JOBS + 1;
      await waitFor(() => completedJobs(readLedger(fleet.ledgerFiles)) >= total, {
        timeoutMs: 60_000,
        intervalMs: 100,
        message: `${total} jobs completed`,
      });
      // The pods beat (registry writes) and every entity is released and tidied at rest: its
      // events stream and lease go, while Redis is still full.
      await heartbeats(admin, prefix, pods[0].podId, 2);
      await waitFor(
        async () => {
          const left = await Promise.all(
            [...ENTITIES, 'slow'].map((e) =>
              admin.exists(
                queueKey(prefix, TYPE, e, 'events'),
                queueKey(prefix, TYPE, e, '__aq:lease'),
              ),
            ),
          );
          return left.every((n) => n === 0);
        },
        { timeoutMs: 30_000, intervalMs: 100, message: 'every entity released and tidied' },
      );
      const used = await usedMemory(admin);
      t.diagnostic(`used ${used} bytes, limit ${limit}`);
      assert.ok(used > limit, `Redis was over its limit all along (${used} > ${limit})`);
      assertOutOfMemory(
        await rejection(producer.enqueue(TYPE, 'e2', 'increment', { seq: JOBS, pad: PAD })),
      );

      const records = await stopAndRead(fleet);
      assertRodeItOut(records, new Map([...ENTITIES.map((e) => [e, JOBS] as const), ['slow', 1]]));
      assertNoLeaseLost(records);
      const slowRuns = executionsOf(records).filter((e) => e.entity === 'slow');
      assert.equal(slowRuns.length, 1, 'the long job ran once: its lease was renewed');
      const released = new Set(records.filter((r) => r.event === 'released').map((r) => r.entity));
      assert.deepEqual([...released].sort(), [...ENTITIES, 'slow'].sort(), 'each one released');
      fleet.passed();
    },
  );

  it(
    'with the default retention, the drained backlog frees memory and refused enqueues go through',
    { timeout: 150_000 },
    async (t) => {
      const w = await world('oomRecovers');
      const { admin, producer, fleet } = w;
      await w.startPods(2, POD_OPTIONS);
      const ENTITIES = ['f0', 'f1', 'f2', 'f3'];
      const limit = (await usedMemory(admin)) + 2 * 1024 * 1024;
      await limitMemory(admin, limit);

      // Each entity's producer enqueues in order until Redis refuses (bounded).
      const MAX = 5000;
      const accepted = new Map<string, number>();
      const refusals = await mapLimit(ENTITIES, ENTITIES.length, async (entity) => {
        for (let seq = 0; seq < MAX; seq++) {
          const err = await rejection(
            producer.enqueue(
              TYPE,
              entity,
              'increment',
              { seq, pad: PAD },
              {
                jobId: `${entity}-${seq}`,
              },
            ),
          );
          if (err !== undefined) return { entity, seq, err };
          accepted.set(entity, seq + 1);
        }
        return { entity, seq: MAX, err: undefined };
      });
      for (const r of refusals) {
        assertOutOfMemory(r.err);
        t.diagnostic(`${r.entity}: ${r.seq} jobs accepted, then refused`);
        assert.ok(r.seq > 100, `${r.entity}: more jobs than the retention keeps`);
      }

      // Nothing else is done: the refused enqueues, retried with their ids, go through once the
      // drained backlog has freed memory (retention keeps 100 completed jobs per entity).
      const startedAt = Date.now();
      const retried = await mapLimit(refusals, refusals.length, (r) =>
        until(
          async () =>
            (await rejection(
              producer.enqueue(
                TYPE,
                r.entity,
                'increment',
                { seq: r.seq, pad: PAD },
                {
                  jobId: `${r.entity}-${r.seq}`,
                },
              ),
            )) === undefined,
          { timeoutMs: 60_000, intervalMs: 200 },
        ),
      );
      assert.deepEqual(retried, [true, true, true, true], 'every refused enqueue went through');
      t.diagnostic(`accepted again after ${Date.now() - startedAt} ms`);
      const total = refusals.reduce((n, r) => n + r.seq + 1, 0);
      await waitFor(() => completedJobs(readLedger(fleet.ledgerFiles)) >= total, {
        timeoutMs: 60_000,
        intervalMs: 100,
        message: `${total} jobs completed`,
      });
      const used = await usedMemory(admin);
      t.diagnostic(`used ${used} bytes, limit ${limit}`);

      const records = await stopAndRead(fleet);
      assertRodeItOut(records, new Map(refusals.map((r) => [r.entity, r.seq + 1])));
      assertNoLeaseLost(records);
      assert.deepEqual(w.producerErrors, [], 'the producer reported no background error');
      fleet.passed();
    },
  );
});
