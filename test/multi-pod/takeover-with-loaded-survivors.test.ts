/**
 * G4 when the survivors are busy: a dead pod's entities resume within heartbeatTTL + a margin
 * even if every surviving pod already holds more entities than the dead one did. The pods build
 * that up themselves — each enqueues to its own entities in turn, so it claims them (pod1 ends
 * with 1 busy entity, pod2 and pod3 with 8 each) — then pod1 is killed with SIGKILL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { multiPodSuite } from '../fixtures/multi-pod-suite';
import {
  executionsOf,
  heldBy,
  readLedger,
  waitForLedger,
  type LedgerRecord,
} from '../fixtures/ledger';
import { now } from '../fixtures/ledger-writer';
import { registryCaughtUp } from '../fixtures/queue-state';

const HEARTBEAT_TTL_S = 1.5;
const CRON_INTERVAL_MS = 500;
const TAKEOVER_BOUND_MS = HEARTBEAT_TTL_S * 1000 + CRON_INTERVAL_MS + 1000;
const BUSY_JOBS = 250;
const JOB_MS = 100;

describe('takeover while the survivors hold more than the dead pod', () => {
  const { fleet, prefix, redis } = multiPodSuite('takeoverLoadedSurvivors');

  it(
    `the dead pod's entities resume within heartbeatTTL + margin (${TAKEOVER_BOUND_MS} ms)`,
    { timeout: 120_000 },
    async (t) => {
      const pods = await fleet.startMany(
        [1, 2, 3].map((i) => ({
          podId: `pod${i}`,
          delayMs: JOB_MS,
          heartbeatTTL: HEARTBEAT_TTL_S,
          cronInterval: CRON_INTERVAL_MS,
          idleTimeoutSeconds: 1,
          // The set-up needs the survivors loaded above the dead pod: no rebalancing of it.
          rebalance: { enabled: false },
        })),
      );
      // pod1: 1 busy entity and 7 one-job entities it will release; pod2, pod3: 8 busy each.
      const plans: { entity: string; jobs: number }[][] = [
        ['v0', 'x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6'].map((entity) => ({
          entity,
          jobs: entity.startsWith('v') ? BUSY_JOBS : 1,
        })),
        Array.from({ length: 8 }, (_, i) => ({ entity: `p${i}`, jobs: BUSY_JOBS })),
        Array.from({ length: 8 }, (_, i) => ({ entity: `q${i}`, jobs: BUSY_JOBS })),
      ];
      const podIds = pods.map((p) => p.podId);
      for (let round = 0; round < 8; round++) {
        await Promise.all(
          pods.map(async (pod, p) => {
            const { entity, jobs } = plans[p][round];
            const reply = await pod.request({
              type: 'enqueueBulk',
              entity,
              name: 'work',
              data: Array.from({ length: jobs }, (_, seq) => ({ seq })),
            });
            assert.ok(reply.ok, `${pod.podId} enqueued to ${entity}: ${reply.error?.message}`);
          }),
        );
        // Each pod sees the others' counts, this round's claims included, before its next claim.
        const entities = plans.map((plan) => plan[round].entity);
        const unclaimed = (r: LedgerRecord[]): string[] =>
          entities.filter((e) => !r.some((x) => x.event === 'claimed' && x.entity === e));
        await waitForLedger(
          () => fleet.ledgerFiles,
          (r) => unclaimed(r).length === 0,
          {
            timeoutMs: 15_000,
            progress: (r) => `round ${round}: ${unclaimed(r).join(', ')} not claimed`,
          },
        );
        await registryCaughtUp(redis, prefix, podIds, Date.now());
      }
      // pod1 lets go of its one-job entities; then every pod's view of the others catches up.
      const shortOnes = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6'];
      await waitForLedger(
        () => fleet.ledgerFiles,
        (r) =>
          shortOnes.every(
            (e) =>
              !heldBy(r, 'pod1').has(e) && !heldBy(r, 'pod2').has(e) && !heldBy(r, 'pod3').has(e),
          ),
        { timeoutMs: 15_000, progress: () => 'one-job entities still held' },
      );
      await registryCaughtUp(redis, prefix, podIds, Date.now());

      const before = readLedger(fleet.ledgerFiles);
      const held = pods.map((p) => heldBy(before, p.podId));
      t.diagnostic(
        `held before the kill: ${pods.map((p, i) => `${p.podId} [${[...held[i]].join(' ')}]`).join(', ')}`,
      );
      assert.ok(held[0].size > 0, 'pod1 holds entities with work');
      assert.ok(
        held[1].size >= held[0].size + 3 && held[2].size >= held[0].size + 3,
        'set-up: both survivors hold many more entities than pod1',
      );

      const victim = pods[0];
      const killedAt = now();
      victim.signal('SIGKILL');
      await victim.exited;

      const resumed = new Map<string, number>();
      await waitForLedger(
        () => fleet.ledgerFiles,
        (r) => {
          for (const e of executionsOf(r)) {
            if (!held[0].has(e.entity) || e.podId === victim.podId || e.start <= killedAt) continue;
            const known = resumed.get(e.entity);
            if (known === undefined || e.start < known) resumed.set(e.entity, e.start);
          }
          return resumed.size === held[0].size;
        },
        {
          timeoutMs: 30_000,
          intervalMs: 50,
          progress: () => `resumed only: ${[...resumed.keys()].join(', ')}`,
        },
      );
      const latencies = [...resumed].map(([entity, start]) => ({ entity, ms: start - killedAt }));
      t.diagnostic(
        `resumed after: ${latencies.map((l) => `${l.entity} ${l.ms.toFixed(0)} ms`).join(', ')}`,
      );
      const late = latencies.filter((l) => l.ms > TAKEOVER_BOUND_MS);
      assert.deepEqual(
        late.map((l) => `${l.entity} after ${l.ms.toFixed(0)} ms`),
        [],
        `the dead pod's entities resumed later than heartbeatTTL + margin = ${TAKEOVER_BOUND_MS} ms`,
      );
      fleet.passed();
    },
  );
});
