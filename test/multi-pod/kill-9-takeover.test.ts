/**
 * G3 no loss and G4 liveness when a pod dies without a word: 3 pods with short leases run
 * 24 entities × 60 slowish jobs; one pod holding entities is killed with SIGKILL mid-run.
 * Every accepted job must complete (at least once), no entity may run on two pods at once, and
 * each of the dead pod's entities with work left must resume on another pod within
 * heartbeatTTL + a margin (one sweep interval + 1 s) of the kill.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { multiPodSuite } from '../fixtures/multi-pod-suite';
import {
  assertExclusiveAndOrdered,
  byEntity,
  completedCount,
  acknowledgements,
  completions,
  executionsOf,
  heldBy,
  readLedger,
  takeoversAfterKill,
  waitForLedger,
} from '../fixtures/ledger';
import { enqueueSequences } from '../fixtures/engines';
import { now } from '../fixtures/ledger-writer';
import type { PodHandle } from '../fixtures/pods';
import { allQueueCounts, readCounters, waitForAllCompleted } from '../fixtures/queue-state';

const TYPE = 'account';
const HEARTBEAT_TTL_S = 1.5;
const CRON_INTERVAL_MS = 500;
const TAKEOVER_BOUND_MS = HEARTBEAT_TTL_S * 1000 + CRON_INTERVAL_MS + 1000;

describe('kill -9 of a pod', () => {
  const { prefix, fleet, engines, redis } = multiPodSuite('kill9Takeover');

  it(
    'its entities resume elsewhere within heartbeatTTL + margin; no job lost, no overlap',
    { timeout: 150_000 },
    async (t) => {
      const ENTITIES = 24;
      const JOBS = 60;
      const pods = await fleet.startMany(
        [1, 2, 3].map((i) => ({
          podId: `pod${i}`,
          delayMs: 20,
          heartbeatTTL: HEARTBEAT_TTL_S,
          cronInterval: CRON_INTERVAL_MS,
          idleTimeoutSeconds: 5,
        })),
      );
      const ids = Array.from({ length: ENTITIES }, (_, i) => `k${String(i).padStart(2, '0')}`);
      await enqueueSequences(engines, TYPE, ids, JOBS);

      // Let a quarter of the work run, then kill the pod holding the FEWEST entities (but some):
      // the survivors then hold more than the dead pod, the hardest case for fair-share claiming.
      const total = ENTITIES * JOBS;
      const before = await waitForLedger(
        () => fleet.ledgerFiles,
        (r) => completedCount(r) >= total / 4,
        {
          timeoutMs: 60_000,
          intervalMs: 20,
          progress: (r) => `${completedCount(r)} of ${total} jobs completed`,
        },
      );
      const holding = pods.filter((p) => heldBy(before, p.podId).size > 0);
      assert.ok(holding.length > 0, 'some pod holds entities');
      const victim: PodHandle = holding.reduce((best, p) =>
        heldBy(before, p.podId).size < heldBy(before, best.podId).size ? p : best,
      );
      t.diagnostic(
        `held at the kill: ${pods.map((p) => `${p.podId} ${heldBy(before, p.podId).size}`).join(', ')}`,
      );
      const killedAt = now();
      victim.signal('SIGKILL');
      const exit = await victim.exited;
      assert.equal(exit.signal, 'SIGKILL');

      // Every accepted job ends up completed in BullMQ, none failed.
      await waitForAllCompleted(redis, prefix, TYPE, ids, JOBS);
      const survivors = pods.filter((p) => p !== victim);
      const exits = await Promise.all(survivors.map((p) => p.stop()));
      assert.deepEqual(
        exits.map((e) => e.code),
        [0, 0],
        'survivors stop gracefully',
      );

      const counts = await allQueueCounts(redis, prefix, TYPE, ids);
      for (const [entity, c] of counts)
        assert.deepEqual(
          c,
          { wait: 0, active: 0, delayed: 0, prioritized: 0, completed: JOBS, failed: 0 },
          `${entity}: every job completed`,
        );

      const records = readLedger(fleet.ledgerFiles);
      const executions = executionsOf(records, { [victim.podId]: killedAt });
      assertExclusiveAndOrdered(executions, (m) => t.diagnostic(m), {
        acks: acknowledgements(records),
      });

      const held = heldBy(records, victim.podId);
      assert.ok(held.size > 0, `the killed pod ${victim.podId} held entities`);
      const groups = byEntity(executions);
      const latencies: string[] = [];
      const late: string[] = [];
      for (const { entity, cutShort, resumed, latencyMs } of takeoversAfterKill(
        records,
        executions,
        victim.podId,
        killedAt,
        JOBS,
      )) {
        assert.ok(resumed, `${entity} had work left at the kill and resumed on another pod`);
        const latency = latencyMs ?? Infinity;
        latencies.push(`${entity} ${latency.toFixed(0)} ms on ${resumed.podId}`);
        if (latency > TAKEOVER_BOUND_MS) late.push(`${entity} after ${latency.toFixed(0)} ms`);
        // The job the dead pod was running is run again (G3), by the new owner, and completed.
        const group = groups.get(entity) ?? [];
        const completed = completions(records).get(entity);
        for (const e of cutShort) {
          const rerun = group.find(
            (x) => x.podId !== victim.podId && x.jobId === e.jobId && x.start > killedAt,
          );
          assert.ok(rerun, `${entity} job ${e.jobId}, cut short by the kill, ran again`);
          assert.ok((completed?.get(e.jobId) ?? 0) >= 1, `${entity} job ${e.jobId} completed`);
        }
      }
      t.diagnostic(
        `killed ${victim.podId} holding ${held.size} entities; resumed: ${latencies.join(', ')}`,
      );

      // No lost update: each entity's counter is its committed executions, plus at most the one
      // execution the kill cut between its write and its ledger line.
      const counters = await readCounters(redis, prefix, ids);
      for (const entity of ids) {
        const group = groups.get(entity) ?? [];
        const committed = group.filter((e) => e.committed === true).length;
        const cutShort = group.filter((e) => !e.finished).length;
        const counter = counters.get(entity) ?? 0;
        assert.ok(counter >= JOBS, `${entity}: counter ${counter} counts every job`);
        assert.ok(
          counter >= committed && counter <= committed + cutShort,
          `${entity}: counter ${counter} vs ${committed} committed executions (+${cutShort} cut short)`,
        );
      }

      const errors = records.filter((r) => r.event === 'error');
      assert.deepEqual(
        errors.map((r) => `${r.podId} (${r.context}): ${r.message}`),
        [],
        'no engine errors',
      );

      // G4, checked last so that a late takeover does not hide the checks above.
      assert.deepEqual(
        late,
        [],
        `entities of the killed pod resumed later than heartbeatTTL + margin = ${TAKEOVER_BOUND_MS} ms`,
      );
      fleet.passed();
    },
  );
});
