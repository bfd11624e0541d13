/**
 * G1 fencing: a pod frozen mid-job (SIGSTOP) past its lease must not complete the job it held
 * once it wakes up (SIGCONT). Meanwhile another pod takes the entity over with a higher fencing
 * token, runs the job again and completes it. The paused pod's late write is refused by the
 * fenced store (its token is older), its moveToCompleted fails, and the engine reports
 * 'lease:lost'. Among executions whose writes committed, none overlap.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sleep, waitFor } from '../../support/async';
import { multiPodSuite } from '../fixtures/multi-pod-suite';
import {
  completions,
  describeReport,
  executionsOf,
  findFencingViolations,
  findOverlaps,
  readLedger,
  waitForLedger,
  type Execution,
  type LedgerRecord,
} from '../fixtures/ledger';
import { now } from '../fixtures/ledger-writer';
import type { PodHandle } from '../fixtures/pods';
import { allQueueCounts, queueKey, readCounters } from '../fixtures/queue-state';

const TYPE = 'account';
const HEARTBEAT_TTL_S = 1;
const JOB_MS = 1200;

function openExecutions(records: readonly LedgerRecord[], podId: string): Execution[] {
  return executionsOf(records.filter((r) => r.podId === podId)).filter((e) => !e.finished);
}

describe('SIGSTOP past the lease, then SIGCONT', () => {
  const { prefix, fleet, engines, redis } = multiPodSuite('sigstopFencing');

  it(
    'the paused pod does not complete its job; another pod does, with a higher fencing token',
    { timeout: 150_000 },
    async (t) => {
      const ENTITIES = 6;
      const JOBS = 3;
      const pods = await fleet.startMany(
        [1, 2, 3].map((i) => ({
          podId: `pod${i}`,
          delayMs: JOB_MS,
          heartbeatTTL: HEARTBEAT_TTL_S,
          cronInterval: 250,
          idleTimeoutSeconds: 5,
        })),
      );
      const producer = engines.create({
        processing: false,
        podId: 'producer',
        entities: { [TYPE]: {} },
      });
      await producer.start();
      const ids = Array.from({ length: ENTITIES }, (_, i) => `s${i}`);
      await producer.enqueueBulk(
        ids.flatMap((entity) =>
          Array.from({ length: JOBS }, (_, seq) => ({
            type: TYPE,
            entityId: entity,
            name: 'increment',
            data: { seq },
          })),
        ),
      );

      // Freeze a pod that is surely mid-job: one of its executions started less than half a job ago.
      let victim: PodHandle | undefined;
      await waitForLedger(
        () => fleet.ledgerFiles,
        (records) => {
          const at = now();
          victim = pods.find((p) =>
            openExecutions(records, p.podId).some((e) => at - e.start < JOB_MS / 2),
          );
          return victim !== undefined;
        },
        { timeoutMs: 60_000, intervalMs: 20, progress: () => 'no pod mid-job' },
      );
      assert.ok(victim);
      const stoppedAt = now();
      victim.signal('SIGSTOP');
      const frozen = openExecutions(readLedger([victim.outFile]), victim.podId);
      assert.ok(frozen.length > 0, `${victim.podId} was frozen mid-job`);
      t.diagnostic(
        `froze ${victim.podId} running ${frozen.map((e) => `${e.entity} job ${e.jobId} token ${e.fencingToken}`).join(', ')}`,
      );

      // Keep it frozen for 2 × heartbeatTTL, and until every frozen entity was taken over.
      const takeovers = new Map<string, Execution>();
      const v = victim;
      await waitForLedger(
        () => fleet.ledgerFiles,
        (records) => {
          const executions = executionsOf(records);
          for (const f of frozen) {
            const next = executions.find(
              (e) => e.entity === f.entity && e.podId !== v.podId && e.start > stoppedAt,
            );
            if (next && !takeovers.has(f.entity)) takeovers.set(f.entity, next);
          }
          return takeovers.size === frozen.length;
        },
        {
          timeoutMs: 30_000,
          intervalMs: 20,
          progress: () => `taken over: ${[...takeovers.keys()].join(', ')}`,
        },
      );
      const tookOverAfter = Math.max(...[...takeovers.values()].map((e) => e.start - stoppedAt));
      const pause = 2 * HEARTBEAT_TTL_S * 1000 - (now() - stoppedAt);
      if (pause > 0) await sleep(pause);
      const continuedAt = now();
      victim.signal('SIGCONT');
      t.diagnostic(
        `taken over after ${tookOverAfter.toFixed(0)} ms; resumed after ${(continuedAt - stoppedAt).toFixed(0)} ms`,
      );

      await waitFor(
        async () => {
          const counts = await allQueueCounts(redis, prefix, TYPE, ids);
          return [...counts.values()].every(
            (c) => c.completed === JOBS && c.wait === 0 && c.active === 0,
          );
        },
        { timeoutMs: 60_000, intervalMs: 250, message: 'every job completed' },
      );
      // Give the woken pod a bounded time to notice; the assertions below say what was missing.
      await waitForLedger(
        () => [v.outFile],
        (records) =>
          frozen.every((f) =>
            records.some(
              (r) => r.event === 'leaseLost' && r.entity === f.entity && r.t > continuedAt,
            ),
          ),
        { timeoutMs: 10_000, progress: () => 'lease:lost not reported' },
      ).catch(() => undefined);
      const exits = await fleet.stopAll();
      t.diagnostic(`exit codes ${exits.map((e) => e.code).join(', ')}`);

      const records = readLedger(fleet.ledgerFiles);
      const executions = executionsOf(records);
      const done = completions(records);
      const victimRecords = records.filter((r) => r.podId === v.podId);
      const victimErrors = victimRecords.filter((r) => r.event === 'error');
      t.diagnostic(
        `${v.podId} after SIGCONT: ${victimRecords
          .filter((r) => r.t > continuedAt && r.event !== 'start' && r.event !== 'end')
          .map((r) => `${r.event} ${r.entity ?? ''} ${r.reason ?? ''} ${r.message ?? ''}`.trim())
          .join('; ')}`,
      );

      // Committed executions never overlap; the refused ones are the paused pod's only.
      const committed = executions.filter((e) => e.committed === true);
      const fenced = executions.filter((e) => e.committed === false);
      t.diagnostic(
        `fenced executions: ${fenced.map((e) => `${e.podId} ${e.entity} job ${e.jobId} token ${e.fencingToken}`).join(', ')}`,
      );
      const overlaps = findOverlaps(committed);
      assert.equal(
        overlaps.length,
        0,
        describeReport({
          executions: committed.length,
          overlaps,
          inversions: [],
          fencing: [],
          drift: [],
        }),
      );
      assert.ok(
        executions.every((e) => e.finished),
        'every execution ended',
      );
      assert.ok(
        fenced.every((e) => e.podId === v.podId),
        'only the paused pod was fenced',
      );
      const fencing = findFencingViolations(executions);
      assert.equal(
        fencing.length,
        0,
        describeReport({
          executions: executions.length,
          overlaps: [],
          inversions: [],
          fencing,
          drift: [],
        }),
      );

      for (const f of frozen) {
        const ended = executions.find((e) => e.exec === f.exec);
        assert.equal(
          ended?.committed,
          false,
          `${f.entity}: the paused execution's write was refused`,
        );
        const next = takeovers.get(f.entity);
        assert.ok(
          next && next.fencingToken > f.fencingToken,
          `${f.entity}: taken over with a higher token`,
        );
        assert.equal(next.jobId, f.jobId, `${f.entity}: the new owner ran the paused job first`);

        const completedBy = records
          .filter((r) => r.event === 'completed' && r.entity === f.entity && r.jobId === f.jobId)
          .map((r) => r.podId);
        assert.deepEqual(
          completedBy,
          [next.podId],
          `${f.entity} job ${f.jobId} completed once, by the new owner`,
        );
        const stored = await redis.hget(queueKey(prefix, TYPE, f.entity, f.jobId), 'returnvalue');
        assert.equal(
          (JSON.parse(stored ?? 'null') as { podId?: string } | null)?.podId,
          next.podId,
          "BullMQ holds the new owner's result",
        );
      }

      const counters = await readCounters(redis, prefix, ids);
      for (const entity of ids) {
        assert.equal(counters.get(entity), JOBS, `${entity}: one committed write per job`);
        assert.equal(done.get(entity)?.size, JOBS, `${entity}: every job completed`);
      }
      const counts = await allQueueCounts(redis, prefix, TYPE, ids);
      for (const [entity, c] of counts) assert.equal(c.failed, 0, `${entity}: no job failed`);

      // The woken pod must learn that it lost each lease: 'lease:lost', not an error.
      for (const f of frozen) {
        assert.ok(
          victimRecords.some(
            (r) => r.event === 'leaseLost' && r.entity === f.entity && r.t > continuedAt,
          ),
          `${v.podId} reports lease:lost for ${f.entity} after SIGCONT; it reported: ` +
            victimErrors.map((r) => `error (${r.context}): ${r.message}`).join('; '),
        );
      }
      assert.deepEqual(
        victimErrors.map((r) => `${r.context}: ${r.message}`),
        [],
        `${v.podId} reported no errors`,
      );
      const otherErrors = records.filter((r) => r.event === 'error' && r.podId !== v.podId);
      assert.deepEqual(
        otherErrors.map((r) => `${r.podId} ${r.context}: ${r.message}`),
        [],
        'no errors elsewhere',
      );
      assert.ok(
        tookOverAfter <= 2 * HEARTBEAT_TTL_S * 1000,
        `takeover within the 2 × heartbeatTTL pause (took ${tookOverAfter.toFixed(0)} ms)`,
      );
      fleet.passed();
    },
  );
});
