/**
 * No lost wake-up. Two races, thousands of rounds, jobs coming from a producer-only engine (the
 * test process) and from the pods themselves (which may hold the entity: the in-memory hand-over
 * path):
 * - `account` entities have a tiny idle timeout: they are released after almost every job, and
 *   the next job arrives at a random moment around that release;
 * - `ledger` entities have a long idle timeout: their runner stays on its pod, going idle right
 *   after each job, and the next job arrives at a random moment around that (it must wake it).
 * A job arriving in either window must still be picked up at once; the safety sweep (which only
 * acts once the index entry is due, about heartbeatTTL later) or the idle timeout must never be
 * what gets it running. So: every job completes, and none waits from enqueue to start longer
 * than one sweep interval + a margin.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { multiPodSuite } from '../fixtures/multi-pod-suite';
import { executionsOf, readLedger, type Execution } from '../fixtures/ledger';
import { now } from '../fixtures/ledger-writer';
import { allQueueCounts } from '../fixtures/queue-state';
import { sleep } from '../../support/async';
import { seededRandom, testSeed } from '../../support/random';

const TYPE = 'account';
const IDLE_MS = 50;
const HELD_TYPE = 'ledger';
const HELD_IDLE_S = 10;
const CRON_INTERVAL_MS = 1000;
/** Leases (and index entries) last 4 s: a job left to the sweep would wait ≥ ~2.7 s. */
const HEARTBEAT_TTL_S = 4;
const WAIT_BOUND_MS = CRON_INTERVAL_MS + 1000;
const ENTITIES = 12;
const HELD_ENTITIES = 6;
const RUN_FOR_MS = 30_000;
const MAX_ROUNDS = 8000;

interface Round {
  type: string;
  entity: string;
  seq: number;
  via: string;
  /** Just before the enqueue call, on the enqueuing process's clock (comparable across). */
  t0: number;
  error?: string;
}

describe('lost wake-up race around idle releases', () => {
  const { prefix, fleet, engines, redis } = multiPodSuite('lostWakeup');

  it(
    'every job starts within a sweep interval + margin of its enqueue; none is stranded',
    { timeout: 120_000 },
    async (t) => {
      const seed = testSeed();
      t.diagnostic(`seed ${seed}`);
      const random = seededRandom(seed);
      const pods = await fleet.startMany(
        [1, 2].map((i) => ({
          podId: `pod${i}`,
          delayMs: 0,
          heartbeatTTL: HEARTBEAT_TTL_S,
          cronInterval: CRON_INTERVAL_MS,
          idleTimeoutSeconds: IDLE_MS / 1000,
          extraTypes: { [HELD_TYPE]: { idleTimeoutSeconds: HELD_IDLE_S } },
        })),
      );
      const producer = engines.create({
        processing: false,
        podId: 'producer',
        workerDefaults: { heartbeatTTL: HEARTBEAT_TTL_S },
        entities: { [TYPE]: {}, [HELD_TYPE]: {} },
      });
      await producer.start();

      // Pause after a job's result came back. `account`: mostly right around the idle release
      // (~IDLE_MS after the job finished), sometimes anywhere up to twice that. `ledger`: mostly
      // within the few ms in which the runner goes idle, sometimes up to 100 ms.
      const gap = (type: string): number => {
        if (type === HELD_TYPE) return random() < 0.5 ? random() * 3 : random() * 100;
        return random() < 0.6 ? IDLE_MS - 10 + random() * 20 : random() * 2 * IDLE_MS;
      };

      const rounds: Round[] = [];
      const stopAt = Date.now() + RUN_FOR_MS;
      const ids = Array.from({ length: ENTITIES }, (_, i) => `w${String(i).padStart(2, '0')}`);
      const heldIds = Array.from(
        { length: HELD_ENTITIES },
        (_, i) => `h${String(i).padStart(2, '0')}`,
      );
      const entities = [
        ...ids.map((entity) => ({ type: TYPE, entity })),
        ...heldIds.map((entity) => ({ type: HELD_TYPE, entity })),
      ];
      await Promise.all(
        entities.map(async ({ type, entity }, e) => {
          for (let seq = 0; Date.now() < stopAt && rounds.length < MAX_ROUNDS; seq++) {
            const data = { seq, delayMs: 0 };
            const viaPod = e % 2 === 1;
            if (viaPod) {
              const pod = pods[Math.floor(random() * pods.length)];
              const reply = await pod.request(
                {
                  type: 'enqueueAndWait',
                  entityType: type,
                  entity,
                  name: 'tick',
                  data,
                  timeoutMs: 20_000,
                },
                25_000,
              );
              rounds.push({
                type,
                entity,
                seq,
                via: pod.podId,
                t0: reply.t0,
                error: reply.ok ? undefined : `${reply.error?.name}: ${reply.error?.message}`,
              });
            } else {
              const round: Round = { type, entity, seq, via: 'producer', t0: now() };
              try {
                await producer.enqueueAndWait(type, entity, 'tick', data, { timeoutMs: 20_000 });
              } catch (err) {
                round.error = String(err);
              }
              rounds.push(round);
            }
            await sleep(gap(type));
          }
        }),
      );
      const exits = await fleet.stopAll();
      assert.deepEqual(
        exits.map((x) => x.code),
        [0, 0],
        'pods stop gracefully',
      );

      const records = readLedger(fleet.ledgerFiles);
      const firstStart = new Map<string, Execution>();
      for (const e of executionsOf(records)) {
        const key = `${e.entity}/${e.seq}`;
        const known = firstStart.get(key);
        if (!known || e.start < known.start) firstStart.set(key, e);
      }
      const releases = records.filter((r) => r.event === 'released');
      const claims = records.filter((r) => r.event === 'claimed').length;
      const releaseTimes = new Map<string, number[]>();
      for (const r of releases) {
        const list = releaseTimes.get(String(r.entity)) ?? [];
        list.push(r.t);
        releaseTimes.set(String(r.entity), list);
      }
      const nearRelease = rounds.filter((r) =>
        (releaseTimes.get(r.entity) ?? []).some((x) => Math.abs(x - r.t0) < 5),
      ).length;

      const failed = rounds.filter((r) => r.error !== undefined);
      const stranded = rounds.filter((r) => !firstStart.has(`${r.entity}/${r.seq}`));
      const waits = rounds
        .filter((r) => firstStart.has(`${r.entity}/${r.seq}`))
        .map((r) => ({ r, wait: (firstStart.get(`${r.entity}/${r.seq}`)?.start ?? NaN) - r.t0 }));
      const slow = waits.filter((w) => w.wait > WAIT_BOUND_MS);
      const sorted = waits.map((w) => w.wait).sort((a, b) => a - b);
      const pct = (p: number): string =>
        (sorted[Math.floor((sorted.length - 1) * p)] ?? NaN).toFixed(1);
      const perType = (type: string): number => rounds.filter((r) => r.type === type).length;
      t.diagnostic(
        `${rounds.length} rounds (${perType(TYPE)} ${TYPE}, ${perType(HELD_TYPE)} ${HELD_TYPE}); ${claims} claims, ${releases.length} releases; ` +
          `${nearRelease} enqueues within 5 ms of a release of their entity; ` +
          `enqueue→start ms p50 ${pct(0.5)} p99 ${pct(0.99)} max ${pct(1)}`,
      );

      assert.ok(rounds.length >= 1000, `thousands of rounds ran (${rounds.length})`);
      assert.deepEqual(
        failed.slice(0, 10).map((r) => `${r.entity}/${r.seq} via ${r.via}: ${r.error}`),
        [],
        `${failed.length} enqueueAndWait calls failed`,
      );
      assert.deepEqual(
        stranded.slice(0, 10).map((r) => `${r.entity}/${r.seq} via ${r.via}`),
        [],
        `${stranded.length} jobs never started`,
      );
      const counts = new Map([
        ...(await allQueueCounts(redis, prefix, TYPE, ids)),
        ...(await allQueueCounts(redis, prefix, HELD_TYPE, heldIds)),
      ]);
      for (const [entity, c] of counts)
        assert.equal(
          c.wait + c.active + c.delayed + c.prioritized,
          0,
          `${entity}: nothing left in its queue`,
        );
      assert.deepEqual(
        slow
          .slice(0, 10)
          .map(
            (w) => `${w.r.type} ${w.r.entity}/${w.r.seq} via ${w.r.via}: ${w.wait.toFixed(0)} ms`,
          ),
        [],
        `${slow.length} jobs waited longer than ${WAIT_BOUND_MS} ms to start`,
      );
      const errors = records.filter((r) => r.event === 'error');
      assert.deepEqual(
        errors.map((r) => `${r.podId} (${r.context}): ${r.message}`),
        [],
        'no engine errors',
      );
      assert.equal(engines.errors.length, 0, engines.describeErrors());
      fleet.passed();
    },
  );
});
