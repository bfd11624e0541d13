/**
 * A pause that nobody used is harmless: a holder frozen (SIGSTOP) mid-job past its lease, while
 * no other pod took the entity (its fencing counter still holds the holder's token), takes its
 * lease back when it wakes up and completes its job, which runs once. A pause that another pod
 * did use is not: that pod ran the job again with a larger token, and the woken holder is fenced
 * off, even once the new holder has let the entity go (the lease is free, but the token moved).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { waitFor } from '../../support/async';
import { storeFenceKey } from '../fixtures/counter-handler';
import { executionsOf, readLedger, waitForLedger, type LedgerRecord } from '../fixtures/ledger';
import { now } from '../fixtures/ledger-writer';
import { multiPodSuite } from '../fixtures/multi-pod-suite';
import type { PodOptions } from '../fixtures/pods';
import { leaseKey, queueCounts, queueKey } from '../fixtures/queue-state';

const TYPE = 'account';
const HEARTBEAT_TTL_S = 1;
/** The paused job: longer than the lease. */
const JOB_MS = 2500;

function pod(podId: string, idleTimeoutSeconds: number): PodOptions {
  return {
    podId,
    delayMs: 50,
    heartbeatTTL: HEARTBEAT_TTL_S,
    cronInterval: 250,
    idleTimeoutSeconds,
  };
}

function find(records: readonly LedgerRecord[], event: string, entity: string, seq?: number) {
  return records.filter(
    (r) => r.event === event && r.entity === entity && (seq === undefined || r.seq === seq),
  );
}

async function exists(redis: Redis, key: string): Promise<boolean> {
  return (await redis.exists(key)) === 1;
}

describe('a holder paused past its lease, nobody taking over', () => {
  const { prefix, fleet, engines, redis } = multiPodSuite('benignPause');

  it(
    'takes the lease back and completes its job once, with the same token',
    { timeout: 60_000 },
    async (t) => {
      const entity = 'p0';
      // One processing pod: nobody can take the entity over while it is frozen.
      const [holder] = await fleet.startMany([pod('pod1', 5)]);
      const producer = engines.create({ processing: false, entities: { [TYPE]: {} } });
      await producer.start();
      const jobId = await producer.enqueue(TYPE, entity, 'increment', { seq: 0, delayMs: JOB_MS });
      await producer.enqueue(TYPE, entity, 'increment', { seq: 1 });
      await waitForLedger(
        () => fleet.ledgerFiles,
        (records) => find(records, 'start', entity, 0).length > 0,
        { timeoutMs: 15_000, progress: () => 'job 0 started' },
      );
      const fence = queueKey(prefix, TYPE, entity, '__aq:fence');
      const tokenBefore = await redis.get(fence);

      const stoppedAt = now();
      holder.signal('SIGSTOP');
      // Frozen until its lease and its job's lock have expired in Redis.
      await waitFor(
        async () =>
          !(await exists(redis, leaseKey(prefix, TYPE, entity))) &&
          !(await exists(redis, queueKey(prefix, TYPE, entity, `${jobId}:lock`))),
        { timeoutMs: 10_000, message: 'the lease and the lock expired' },
      );
      const continuedAt = now();
      holder.signal('SIGCONT');
      t.diagnostic(`frozen ${(continuedAt - stoppedAt).toFixed(0)} ms, lease ${HEARTBEAT_TTL_S} s`);

      await waitForLedger(
        () => fleet.ledgerFiles,
        (records) => find(records, 'completed', entity, 1).length > 0,
        { timeoutMs: 20_000, progress: () => 'job 1 completed' },
      );
      const tokenAfter = await redis.get(fence);
      const counts = await queueCounts(redis, prefix, TYPE, entity);
      await fleet.stopAll();

      const records = readLedger(fleet.ledgerFiles);
      const runs = executionsOf(records).filter((e) => e.entity === entity);
      const first = runs.filter((e) => e.seq === 0);
      t.diagnostic(
        `executions: ${runs.map((e) => `job ${e.seq} token ${e.fencingToken} committed ${e.committed}`).join('; ')}`,
      );
      const problems: string[] = [];
      if (first.length !== 1) problems.push(`job 0 ran ${first.length} times`);
      else {
        const [run] = first;
        assert.ok(run.start < stoppedAt && run.end > continuedAt, 'job 0 ran across the pause');
        if (!run.committed) problems.push('the store refused job 0');
        if (runs.some((e) => e.fencingToken !== run.fencingToken))
          problems.push('the token changed');
      }
      const completed = find(records, 'completed', entity, 0);
      if (completed.length !== 1) problems.push(`job 0 completed ${completed.length} times`);
      if (find(records, 'claimed', entity).length !== 1)
        problems.push('the entity was claimed again');
      if (find(records, 'leaseLost', entity).length > 0) problems.push('the holder lost its lease');
      if (tokenAfter !== tokenBefore)
        problems.push(`the fencing counter moved from ${tokenBefore} to ${tokenAfter}`);
      if (counts.completed !== 2 || counts.failed !== 0)
        problems.push(`queue: ${JSON.stringify(counts)}`);
      assert.deepEqual(problems, []);
      fleet.passed();
    },
  );
});

describe('a holder paused past its lease, another pod taking over', () => {
  const { prefix, fleet, engines, redis } = multiPodSuite('takenOverPause');

  it(
    'the job runs again with a larger token; the woken holder is fenced off and loses its lease',
    { timeout: 60_000 },
    async (t) => {
      const entity = 'q0';
      const pods = await fleet.startMany([pod('pod1', 1), pod('pod2', 1)]);
      const producer = engines.create({ processing: false, entities: { [TYPE]: {} } });
      await producer.start();
      await producer.enqueue(TYPE, entity, 'increment', { seq: 0, delayMs: JOB_MS });
      await producer.enqueue(TYPE, entity, 'increment', { seq: 1 });
      const started = await waitForLedger(
        () => fleet.ledgerFiles,
        (records) => find(records, 'start', entity, 0).length > 0,
        { timeoutMs: 15_000, progress: () => 'job 0 started' },
      );
      const holder = pods.find((p) => p.podId === find(started, 'start', entity, 0)[0].podId);
      assert.ok(holder);
      const other = pods.find((p) => p !== holder);

      holder.signal('SIGSTOP');
      // Frozen until the other pod has run both jobs and let the entity go: when the holder
      // wakes up its lease is free, as after a benign pause, but the token has moved on.
      await waitForLedger(
        () => fleet.ledgerFiles,
        (records) => {
          const done = find(records, 'completed', entity, 1);
          return (
            done.length > 0 &&
            find(records, 'released', entity).some(
              (r) => r.podId === other?.podId && r.t > done[0].t,
            )
          );
        },
        { timeoutMs: 20_000, progress: () => 'the other pod ran both jobs and released' },
      );
      const continuedAt = now();
      holder.signal('SIGCONT');
      await waitForLedger(
        () => [holder.outFile],
        (records) => find(records, 'leaseLost', entity).some((r) => r.t > continuedAt),
        { timeoutMs: 15_000, progress: () => `${holder.podId} reported lease:lost` },
      );
      const leaseTaken = await exists(redis, leaseKey(prefix, TYPE, entity));
      await fleet.stopAll();

      const records = readLedger(fleet.ledgerFiles);
      const runs = executionsOf(records).filter((e) => e.entity === entity && e.seq === 0);
      t.diagnostic(
        `job 0: ${runs.map((e) => `${e.podId} token ${e.fencingToken} committed ${e.committed}`).join('; ')}`,
      );
      assert.equal(runs.length, 2, 'job 0 ran twice');
      const [paused, again] = runs.sort((a, b) => a.start - b.start);
      assert.equal(paused.podId, holder.podId);
      assert.equal(again.podId, other?.podId);
      assert.ok(again.fencingToken > paused.fencingToken, 'the second run has a larger token');
      assert.equal(paused.committed, false, "the store refused the paused holder's write");
      assert.equal(again.committed, true);
      assert.deepEqual(
        find(records, 'completed', entity).map((r) => `${r.podId} job ${r.seq}`),
        [`${again.podId} job 0`, `${again.podId} job 1`],
        'each job completed once, by the new holder',
      );
      assert.equal(leaseTaken, false, 'the woken holder did not take the free lease');
      const stored = Number(await redis.get(storeFenceKey(prefix, entity)));
      assert.ok(stored >= again.fencingToken, "the store kept the new holder's token");
      fleet.passed();
    },
  );
});
