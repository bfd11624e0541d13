/**
 * Redis refusing writes for a while, provoked for real on a Redis of the test's own, with pod
 * processes running a backlog (the counter handler's store stays on the test Redis):
 * - `MISCONF`: a snapshot fails (the RDB file's name is taken by a directory) while
 *   `stop-writes-on-bgsave-error` is on;
 * - `READONLY`: the node hands over to its replica (`FAILOVER`, so no write is lost) and
 *   becomes a replica itself, then is promoted back (`REPLICAOF NO ONE`).
 * Meanwhile an enqueue rejects with RedisRefusedError (reason `disk-error` / `read-only`, Redis's
 * reply as the cause) and stores nothing; the pods' leases lapse. Once the refusal is lifted the
 * pods go on by themselves: every accepted job completes, the refused enqueue goes through when
 * retried with its id, no runner closes on an error, no two executions of an entity overlap.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { RedisRefusedError, type RedisRefusalReason } from '../../src';
import { startLocalRedis, type LocalRedis } from '../../scripts/local-redis';
import { until, waitFor } from '../../support/async';
import { readLedger } from '../fixtures/ledger';
import {
  assertRodeItOut,
  completedJobs,
  enqueueBacklog,
  ownRedisWorld,
  redisInfo as info,
  rejection,
  stopAndRead,
  TYPE,
} from '../fixtures/own-redis';
import { queueKey } from '../fixtures/queue-state';

const ENTITIES = ['r0', 'r1', 'r2', 'r3'];
const JOBS = 60;

/** A refusal to stage: provoke it, and lift it. */
interface Fault {
  reason: RedisRefusalReason;
  /** How Redis's reply starts. */
  code: string;
  /** Set-up that takes a while, done before the backlog starts. */
  prepare?(): Promise<void>;
  provoke(): Promise<void>;
  lift(): Promise<void>;
}

/**
 * Pods run a backlog; the fault strikes mid-run; an enqueue is refused; the leases lapse; the
 * fault is lifted; everything accepted completes, and the refused enqueue goes through.
 */
async function rideOut(
  t: TestContext,
  name: string,
  redis: LocalRedis,
  fault: (admin: Redis) => Fault,
): Promise<void> {
  const w = await ownRedisWorld(name, redis);
  const { prefix, admin, fleet, producer } = w;
  const f = fault(admin);
  try {
    await f.prepare?.();
    await w.startPods(2, {
      delayMs: 20,
      heartbeatTTL: 1.5,
      cronInterval: 300,
      idleTimeoutSeconds: 2,
    });
    await enqueueBacklog(producer, ENTITIES, JOBS);
    const total = ENTITIES.length * JOBS;
    await waitFor(() => completedJobs(readLedger(fleet.ledgerFiles)) >= total / 4, {
      timeoutMs: 30_000,
      intervalMs: 20,
      message: 'a quarter of the backlog done',
    });

    await f.provoke();
    const doneAtFault = completedJobs(readLedger(fleet.ledgerFiles));
    assert.ok(doneAtFault < total, `work was left at the fault (${doneAtFault} of ${total} done)`);
    const refused = await rejection(
      producer.enqueue(TYPE, 'r0', 'increment', { seq: JOBS }, { jobId: 'refused' }),
    );
    assert.ok(refused instanceof RedisRefusedError, `a RedisRefusedError, got ${String(refused)}`);
    assert.equal(refused.reason, f.reason);
    assert.ok(refused.cause instanceof Error, 'the cause is kept');
    assert.ok(refused.cause.message.startsWith(f.code), refused.cause.message);
    assert.equal(await admin.exists(queueKey(prefix, TYPE, 'r0', 'refused')), 0, 'no job stored');
    // The refusal lasts until every lease has lapsed (none can be renewed).
    await waitFor(
      async () => {
        const leases = ENTITIES.map((e) => queueKey(prefix, TYPE, e, '__aq:lease'));
        return (await admin.exists(...leases)) === 0;
      },
      { timeoutMs: 15_000, intervalMs: 50, message: 'every lease lapsed during the refusal' },
    );
    const doneDuring = completedJobs(readLedger(fleet.ledgerFiles)) - doneAtFault;
    t.diagnostic(`${doneAtFault} jobs done at the fault, ${doneDuring} more during it`);
    assert.ok(
      doneDuring <= 2 * 2,
      'no job finished while Redis refused writes (bar those in flight)',
    );
    await f.lift();

    // By themselves: the pods go on, the refused enqueue goes through when retried.
    const accepted = await until(
      async () =>
        (await rejection(
          producer.enqueue(TYPE, 'r0', 'increment', { seq: JOBS }, { jobId: 'refused' }),
        )) === undefined,
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    assert.ok(accepted, 'the refused enqueue goes through once Redis accepts writes again');
    await waitFor(() => completedJobs(readLedger(fleet.ledgerFiles)) >= total + 1, {
      timeoutMs: 60_000,
      intervalMs: 50,
      message: `${total + 1} jobs completed after the refusal`,
    });

    const records = await stopAndRead(fleet);
    assertRodeItOut(records, new Map(ENTITIES.map((e) => [e, JOBS + (e === 'r0' ? 1 : 0)])));
    const errors = records.filter((r) => r.event === 'error');
    assert.ok(
      errors.some((r) => String(r.message).startsWith(f.code)),
      `the pods reported the refusal (${errors.length} error events)`,
    );
    fleet.passed();
  } finally {
    await w.dispose();
  }
}

describe('Redis refusing writes', () => {
  const servers: LocalRedis[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
  });

  it(
    'MISCONF (a failed snapshot): typed refusal at enqueue; pods ride it out and resume',
    { timeout: 150_000 },
    async (t) => {
      const redis = await startLocalRedis();
      servers.push(redis);
      // A directory where the snapshot goes: its rename fails (even for root).
      const blocker = path.join(redis.dir, 'dump.rdb');
      await rideOut(t, 'refusesMisconf', redis, (admin) => ({
        reason: 'disk-error',
        code: 'MISCONF',
        async provoke() {
          // Writes stop on a failed snapshot only while snapshots are configured.
          await admin.config('SET', 'save', '3600 1');
          await admin.config('SET', 'stop-writes-on-bgsave-error', 'yes');
          mkdirSync(blocker);
          await admin.bgsave();
          await waitFor(
            async () => (await info(admin, 'persistence', 'rdb_last_bgsave_status')) === 'err',
            { timeoutMs: 10_000, message: 'the snapshot failed' },
          );
        },
        async lift() {
          rmdirSync(blocker);
          await waitFor(
            async () => (await info(admin, 'persistence', 'rdb_bgsave_in_progress')) === '0',
            { timeoutMs: 10_000, message: 'no snapshot in progress' },
          );
          await admin.bgsave();
          await waitFor(
            async () => (await info(admin, 'persistence', 'rdb_last_bgsave_status')) === 'ok',
            { timeoutMs: 10_000, message: 'a snapshot succeeded' },
          );
        },
      }));
    },
  );

  it(
    'READONLY (demoted to a replica, then promoted back): typed refusal; pods ride it out',
    { timeout: 150_000 },
    async (t) => {
      const redis = await startLocalRedis();
      const other = await startLocalRedis();
      servers.push(redis, other);
      const otherAdmin = new Redis(other.url);
      try {
        await rideOut(t, 'refusesReadonly', redis, (admin) => ({
          reason: 'read-only',
          code: 'READONLY',
          // `other` copies this node; at the fault they swap roles (FAILOVER), and this node
          // becomes `other`'s replica.
          async prepare() {
            await otherAdmin.replicaof('127.0.0.1', redis.port);
            await waitFor(
              async () => (await info(otherAdmin, 'replication', 'master_link_status')) === 'up',
              { timeoutMs: 10_000, message: 'the copy is in sync' },
            );
          },
          async provoke() {
            // Redis's own hand-over: writes pause until the replica has them all, then the
            // roles swap; nothing acknowledged is lost.
            await admin.call('FAILOVER', 'TO', '127.0.0.1', String(other.port));
            await waitFor(
              async () =>
                (await info(admin, 'replication', 'role')) === 'slave' &&
                (await info(admin, 'replication', 'master_link_status')) === 'up',
              { timeoutMs: 10_000, message: 'demoted: a replica in sync' },
            );
          },
          async lift() {
            await admin.replicaof('NO', 'ONE');
          },
        }));
      } finally {
        otherAdmin.disconnect();
      }
    },
  );
});
