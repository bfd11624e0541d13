/**
 * G4 and G5 with every pod healthy. A burst of new entities (one job each) arrives at 3 idle
 * pods at once. G4: an entity with waiting jobs is never left without a runner longer than
 * heartbeatTTL + a small margin, so every job starts within heartbeatTTL + one sweep interval
 * + 1 s of its enqueue. G5: the entities spread over the pods — each runs at least half its
 * fair share (a sixth of them) — whether the burst comes from a producer-only pod or from one
 * of the processing pods (which claims up to its share, the claims of the burst counted as they
 * are sent, and offers the rest).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { multiPodSuite } from '../fixtures/multi-pod-suite';
import { completedCount, executionsOf, waitForLedger } from '../fixtures/ledger';
import { now } from '../fixtures/ledger-writer';

const TYPE = 'account';
const HEARTBEAT_TTL_S = 1.5;
const CRON_INTERVAL_MS = 500;
const WAIT_BOUND_MS = HEARTBEAT_TTL_S * 1000 + CRON_INTERVAL_MS + 1000;
const ENTITIES = 60;

for (const via of ['a producer-only pod', 'one of the processing pods'] as const) {
  describe(`a burst of new entities from ${via}`, () => {
    const { fleet, engines } = multiPodSuite(
      `burstOfNewEntities${via === 'a producer-only pod' ? 'P' : 'W'}`,
    );

    it(
      `every job starts within heartbeatTTL + margin (${WAIT_BOUND_MS} ms) of its enqueue`,
      { timeout: 120_000 },
      async (t) => {
        const pods = await fleet.startMany(
          [1, 2, 3].map((i) => ({
            podId: `pod${i}`,
            delayMs: 5,
            heartbeatTTL: HEARTBEAT_TTL_S,
            cronInterval: CRON_INTERVAL_MS,
          })),
        );
        const entityIds = Array.from(
          { length: ENTITIES },
          (_, i) => `b${String(i).padStart(2, '0')}`,
        );

        const enqueuedAt = now();
        if (via === 'a producer-only pod') {
          const producer = engines.create({
            processing: false,
            podId: 'producer',
            entities: { [TYPE]: {} },
          });
          await producer.start();
          await producer.enqueueBulk(
            entityIds.map((entityId) => ({ type: TYPE, entityId, name: 'open', data: { seq: 0 } })),
          );
        } else {
          // All at once to pod1: they reach its engine within a turn or two.
          const replies = await Promise.all(
            entityIds.map((entity) =>
              pods[0].request({ type: 'enqueueBulk', entity, name: 'open', data: [{ seq: 0 }] }),
            ),
          );
          assert.deepEqual(
            replies.filter((r) => !r.ok).map((r) => r.error?.message),
            [],
            'every enqueue was accepted',
          );
        }
        const records = await waitForLedger(
          () => fleet.ledgerFiles,
          (r) => completedCount(r) >= ENTITIES,
          {
            timeoutMs: 90_000,
            progress: (r) => `${completedCount(r)} of ${ENTITIES} jobs completed`,
          },
        );
        await fleet.stopAll();

        const waits = executionsOf(records)
          .map((e) => ({ entity: e.entity, pod: e.podId, wait: e.start - enqueuedAt }))
          .sort((a, b) => a.wait - b.wait);
        const perPod = new Map<string, number>();
        for (const w of waits) perPod.set(w.pod, (perPod.get(w.pod) ?? 0) + 1);
        t.diagnostic(
          `waits ms: first ${waits[0]?.wait.toFixed(0)}, median ${waits[Math.floor(waits.length / 2)]?.wait.toFixed(0)}, ` +
            `last ${waits[waits.length - 1]?.wait.toFixed(0)}; per pod ${JSON.stringify(Object.fromEntries(perPod))}`,
        );
        assert.equal(waits.length, ENTITIES, 'each job ran once');
        const late = waits.filter((w) => w.wait > WAIT_BOUND_MS);
        assert.deepEqual(
          late
            .slice(0, 10)
            .map((w) => `${w.entity} started ${w.wait.toFixed(0)} ms after its enqueue`),
          [],
          `${late.length} of ${ENTITIES} entities waited longer than ${WAIT_BOUND_MS} ms for a runner`,
        );
        for (const pod of ['pod1', 'pod2', 'pod3']) {
          const ran = perPod.get(pod) ?? 0;
          assert.ok(
            ran >= ENTITIES / 6,
            `${pod} ran ${ran} of ${ENTITIES} entities; spread: ${JSON.stringify(Object.fromEntries(perPod))}`,
          );
        }
        fleet.passed();
      },
    );
  });
}
