/**
 * G4 and G5 with pods whose wall clocks disagree: three pods, one 30 s slow, one on time, one
 * 30 s fast (libfaketime, support/faketime.ts; each pod's skew is checked against Redis's TIME
 * at its start). No decision may read a pod's clock: the sweep index, the pod registry and the
 * spawn set are scored with Redis's clock inside the scripts, and pods measure only durations.
 * So, as with synchronized clocks:
 * - takeover: when the fast pod (or the slow one) is SIGKILLed holding entities with work, each
 *   resumes on another pod within heartbeatTTL + cronInterval + 1 s of the kill (had the index
 *   been scored with the fast pod's clock, the others would wait ~30 s for its entries);
 * - spread: a burst of new entities, sent from the fast pod, then from the slow one, starts
 *   within heartbeatTTL + cronInterval + 1 s and spreads within G5's bound (at most a share
 *   counted with the entity being claimed + 10%, at least half an even share);
 * - idle release: each entity is released idleTimeoutSeconds after its last job, never taken
 *   over meanwhile, and the registry shows all three pods alive by Redis's clock throughout
 *   (had each pod stamped its entry with its own clock, the slow pod's would look 30 s old);
 * - delayed jobs: a job enqueued with a delay by any of the three runs that delay after its
 *   enqueue (had BullMQ taken the producer's clock for its timestamp, the slow pod's would run
 *   at once and the fast pod's 30 s late).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { sleep, until } from '../../support/async';
import {
  acknowledgements,
  assertExclusiveAndOrdered,
  completedCount,
  executionsOf,
  heldBy,
  readLedger,
  takeoversAfterKill,
  waitForLedger,
  type LedgerRecord,
} from '../fixtures/ledger';
import { enqueueSequences } from '../fixtures/engines';
import { now } from '../fixtures/ledger-writer';
import { multiPodSuite } from '../fixtures/multi-pod-suite';
import type { PodFleet, PodHandle, PodOptions } from '../fixtures/pods';
import { heartbeats, podsKey, waitForAllCompleted } from '../fixtures/queue-state';

const TYPE = 'account';
const SKEW_MS = 30_000;
const HEARTBEAT_TTL_S = 1.5;
const CRON_INTERVAL_MS = 500;
const IDLE_TIMEOUT_S = 3;
const BOUND_MS = HEARTBEAT_TTL_S * 1000 + CRON_INTERVAL_MS + 1000;
/** The engine's own staleness limit for registry entries: a lease TTL + a heartbeat interval. */
const STALE_AFTER_MS = (HEARTBEAT_TTL_S * 1000 * 4) / 3;
const CLOCKS = { slow: -SKEW_MS, ontime: 0, fast: SKEW_MS } as const;
type PodName = keyof typeof CLOCKS;

/** The three pods, each on its own clock. */
async function startPods(fleet: PodFleet, delayMs: number): Promise<Record<PodName, PodHandle>> {
  const names = Object.keys(CLOCKS) as PodName[];
  const options = names.map((podId): PodOptions => ({
    podId,
    clockSkewMs: CLOCKS[podId],
    delayMs,
    heartbeatTTL: HEARTBEAT_TTL_S,
    cronInterval: CRON_INTERVAL_MS,
    idleTimeoutSeconds: IDLE_TIMEOUT_S,
    // Releases are timed here (idle timeout): no entity may leave early by a hand-over.
    rebalance: { enabled: false },
  }));
  const pods = await fleet.startMany(options);
  return { slow: pods[0], ontime: pods[1], fast: pods[2] };
}

function engineErrors(records: readonly LedgerRecord[]): string[] {
  return records
    .filter((r) => r.event === 'error')
    .map((r) => `${r.podId} (${r.context}): ${r.message}`);
}

for (const victimName of ['fast', 'slow'] as const) {
  describe(`kill -9 of the pod whose clock runs 30 s ${victimName}`, () => {
    const { prefix, fleet, engines, redis } = multiPodSuite(`clockSkewKill${victimName}`);

    it(
      `its entities resume on the others within heartbeatTTL + cronInterval + 1 s (${BOUND_MS} ms)`,
      { timeout: 150_000 },
      async (t) => {
        const ENTITIES = 18;
        const JOBS = 60;
        const pods = await startPods(fleet, 20);
        const victim = pods[victimName];
        const ids = Array.from({ length: ENTITIES }, (_, i) => `k${String(i).padStart(2, '0')}`);
        await enqueueSequences(engines, TYPE, ids, JOBS);

        // A quarter of the work done, and the victim holding entities: kill it.
        const total = ENTITIES * JOBS;
        const before = await waitForLedger(
          () => fleet.ledgerFiles,
          (r) => completedCount(r) >= total / 4 && heldBy(r, victim.podId).size > 0,
          {
            timeoutMs: 60_000,
            intervalMs: 20,
            progress: (r) =>
              `${completedCount(r)} of ${total} jobs completed; ` +
              `${victim.podId} holds ${heldBy(r, victim.podId).size}`,
          },
        );
        t.diagnostic(
          `held at the kill: ${Object.values(pods)
            .map((p) => `${p.podId} (clock ${p.clockSkewMs} ms) ${heldBy(before, p.podId).size}`)
            .join(', ')}`,
        );
        const killedAt = now();
        victim.signal('SIGKILL');
        assert.equal((await victim.exited).signal, 'SIGKILL');

        // Every job completes (the wait is longer than a 30 s skew would delay a takeover, so a
        // late takeover shows as its latency below rather than as a timeout here).
        await waitForAllCompleted(redis, prefix, TYPE, ids, JOBS, 90_000);
        const survivors = Object.values(pods).filter((p) => p !== victim);
        const exits = await Promise.all(survivors.map((p) => p.stop()));
        assert.deepEqual(
          exits.map((e) => e.code),
          [0, 0],
          'survivors stop gracefully',
        );

        const records = readLedger(fleet.ledgerFiles);
        const executions = executionsOf(records, { [victim.podId]: killedAt });
        assertExclusiveAndOrdered(executions, (m) => t.diagnostic(m), {
          acks: acknowledgements(records),
        });
        assert.deepEqual(engineErrors(records), [], 'no engine errors');

        const takeovers = takeoversAfterKill(records, executions, victim.podId, killedAt, JOBS);
        assert.ok(takeovers.length > 0, `${victim.podId} held entities with work at the kill`);
        const resumed = takeovers.map(
          (x) => `${x.entity} ${x.latencyMs?.toFixed(0) ?? 'never'} ms on ${x.resumed?.podId}`,
        );
        t.diagnostic(`killed ${victim.podId}; resumed: ${resumed.join(', ')}`);
        const late = takeovers.filter((x) => !((x.latencyMs ?? Infinity) <= BOUND_MS));
        assert.deepEqual(
          late.map((x) => `${x.entity} after ${x.latencyMs?.toFixed(0) ?? 'never'} ms`),
          [],
          `entities of ${victim.podId} (clock ${victim.clockSkewMs} ms off) resumed later than ` +
            `${BOUND_MS} ms after the kill`,
        );
        fleet.passed();
      },
    );
  });
}

/** The registry as Redis's clock sees it, sampled: each pod's entry age, and every lapse. */
class RegistryWatch {
  readonly maxAgeMs = new Map<string, number>();
  readonly lapses: string[] = [];
  samples = 0;
  private stopped = false;
  private readonly running: Promise<void>;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly podIds: readonly string[],
  ) {
    this.running = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const replies = await this.redis.multi().time().hgetall(this.key).exec();
      const [time, entries] = (replies ?? []).map(([, value]) => value) as [
        [string, string],
        Record<string, string>,
      ];
      const redisNow = Number(time[0]) * 1000 + Number(time[1]) / 1000;
      for (const podId of this.podIds) {
        const entry = entries[podId];
        const age = entry === undefined ? Infinity : redisNow - Number(entry.split('|')[2]);
        this.maxAgeMs.set(podId, Math.max(this.maxAgeMs.get(podId) ?? -Infinity, age));
        if (!(Math.abs(age) <= STALE_AFTER_MS) && this.lapses.length < 10)
          this.lapses.push(`${podId}: entry ${entry ?? 'missing'}, ${age.toFixed(0)} ms old`);
      }
      this.samples += 1;
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}

describe('a burst of new entities, then idleness, with pods 30 s apart', () => {
  const { prefix, fleet, redis } = multiPodSuite('clockSkewSpreadIdle');

  it(
    "spread within G5's bound, starts within the bound, released on time, registry alive",
    { timeout: 150_000 },
    async (t) => {
      const ENTITIES = 60;
      // G5: a pod claims up to its share, counted with the entity it claims, + 10% (at least 1).
      const share = Math.ceil((ENTITIES + 1) / 3);
      const most = share + Math.max(1, Math.floor(share / 10));
      const least = ENTITIES / 6;
      const pods = await startPods(fleet, 5);
      // Past the warm-up (a lease TTL + a heartbeat interval after start): a warming pod takes
      // every spawn offer it pops, over its share (with synchronized clocks too, up to 31 of 60
      // in one run), which is not what this test is about.
      // (Heartbeats are counted as changes of the pods' registry entries, whatever is in them.)
      const beats = (n: number): Promise<unknown> =>
        Promise.all(Object.keys(pods).map((p) => heartbeats(redis, prefix, p, n)));
      await beats(Math.ceil(STALE_AFTER_MS / (HEARTBEAT_TTL_S * (1000 / 3))) + 1);
      const watch = new RegistryWatch(redis, podsKey(prefix), Object.keys(pods));
      try {
        for (const source of ['fast', 'slow'] as const) {
          // Every pod has seen the others' counts (the previous burst's releases included).
          await beats(2);
          const ids = Array.from({ length: ENTITIES }, (_, i) => `${source}${i}`);
          const mine = new Set(ids);
          const enqueuedAt = now();
          const replies = await Promise.all(
            ids.map((entity) =>
              pods[source].request({
                type: 'enqueueBulk',
                entity,
                name: 'open',
                data: [{ seq: 0 }],
              }),
            ),
          );
          assert.deepEqual(
            replies.filter((r) => !r.ok).map((r) => r.error?.message),
            [],
            'every enqueue was accepted',
          );
          const ours = (r: LedgerRecord): boolean => r.entity !== undefined && mine.has(r.entity);
          // Every entity ran its job and was then released for idleness.
          const records = await waitForLedger(
            () => fleet.ledgerFiles,
            (r) => r.filter((x) => x.event === 'released' && ours(x)).length >= ENTITIES,
            {
              timeoutMs: 60_000,
              progress: (r) =>
                `${r.filter((x) => x.event === 'completed' && ours(x)).length} completed, ` +
                `${r.filter((x) => x.event === 'released' && ours(x)).length} released ` +
                `of ${ENTITIES}`,
            },
          );
          const executions = executionsOf(records).filter((e) => mine.has(e.entity));
          assert.equal(executions.length, ENTITIES, `burst from ${source}: each job ran once`);

          const perPod = new Map<string, number>();
          for (const e of executions) perPod.set(e.podId, (perPod.get(e.podId) ?? 0) + 1);
          const spread = JSON.stringify(Object.fromEntries(perPod));
          const waits = executions.map((e) => e.start - enqueuedAt).sort((a, b) => a - b);
          const releases = new Map(
            records
              .filter((r) => r.event === 'released' && ours(r))
              .map((r) => [String(r.entity), r.t]),
          );
          const idleFor = executions
            .map((e) => (releases.get(e.entity) ?? Infinity) - e.end)
            .sort((a, b) => a - b);
          t.diagnostic(
            `burst from ${source}: per pod ${spread}; start waits ms: median ` +
              `${waits[ENTITIES / 2].toFixed(0)}, max ${waits[ENTITIES - 1].toFixed(0)}; ` +
              `released after its job ms: min ${idleFor[0].toFixed(0)}, ` +
              `max ${idleFor[ENTITIES - 1].toFixed(0)}`,
          );
          for (const pod of Object.keys(pods)) {
            const ran = perPod.get(pod) ?? 0;
            assert.ok(
              ran >= least && ran <= most,
              `burst from ${source}: ${pod} ran ${ran} of ${ENTITIES} entities, ` +
                `G5 allows ${least}..${most}; spread ${spread}`,
            );
          }
          assert.ok(
            waits[ENTITIES - 1] <= BOUND_MS,
            `burst from ${source}: the last job started ${waits[ENTITIES - 1].toFixed(0)} ms ` +
              `after the enqueue (bound ${BOUND_MS} ms)`,
          );
          // Released by its holder idleTimeoutSeconds after its job, not earlier, and not
          // taken from it meanwhile (one claim each, no lease lost).
          const idleMs = IDLE_TIMEOUT_S * 1000;
          assert.ok(
            idleFor[0] >= idleMs - 50 && idleFor[ENTITIES - 1] <= idleMs + 1000,
            `burst from ${source}: released ${idleFor[0].toFixed(0)}..` +
              `${idleFor[ENTITIES - 1].toFixed(0)} ms after the job, idle timeout ${idleMs} ms`,
          );
          const claims = records.filter((r) => r.event === 'claimed' && ours(r)).length;
          const lost = records.filter((r) => r.event === 'leaseLost' && ours(r)).length;
          assert.deepEqual({ claims, lost }, { claims: ENTITIES, lost: 0 }, 'one claim each');
          assert.deepEqual(engineErrors(records), [], 'no engine errors');
        }
      } finally {
        await watch.stop();
      }
      t.diagnostic(
        `registry, ${watch.samples} samples, oldest entry by Redis's clock ms: ` +
          JSON.stringify(Object.fromEntries([...watch.maxAgeMs].map(([p, a]) => [p, a]))),
      );
      assert.deepEqual(
        watch.lapses,
        [],
        `a pod's registry entry looked stale by Redis's clock (limit ${STALE_AFTER_MS} ms)`,
      );
      await fleet.stopAll();
      fleet.passed();
    },
  );
});

describe('a delayed job enqueued by a pod whose clock is 30 s off', () => {
  const { fleet } = multiPodSuite('clockSkewDelay');

  it(
    'runs its delay after the enqueue, from the fast pod as from the slow one',
    { timeout: 90_000 },
    async (t) => {
      const DELAY_MS = 2000;
      // Enqueued as soon as the pods are up: a pod knows Redis's clock from its start.
      const pods = await startPods(fleet, 5);
      const sentAt = new Map<string, number>();
      await Promise.all(
        Object.entries(pods).map(async ([name, pod]) => {
          const entity = `d_${name}`;
          const reply = await pod.request({
            type: 'enqueueBulk',
            entity,
            name: 'open',
            data: [{ seq: 0 }],
            delay: DELAY_MS,
          });
          assert.ok(reply.ok, `${name}: ${reply.error?.message}`);
          sentAt.set(entity, reply.t0);
        }),
      );
      // Long enough for a job delayed by a 30 s skew to show as late rather than as a timeout.
      let started = new Map<string, number>();
      await until(
        () => {
          started = new Map(
            executionsOf(readLedger(fleet.ledgerFiles)).map((e) => [e.entity, e.start]),
          );
          return started.size >= sentAt.size;
        },
        { timeoutMs: DELAY_MS + 10_000, intervalMs: 50 },
      );
      const waits = [...sentAt].map(([entity, at]) => {
        const wait = (started.get(entity) ?? Infinity) - at;
        return { entity, wait, ok: wait >= DELAY_MS - 20 && wait <= DELAY_MS + 1000 };
      });
      const text = waits.map((w) => `${w.entity} ${w.wait.toFixed(0)} ms`).join(', ');
      t.diagnostic(`delay ${DELAY_MS} ms; started after: ${text}`);
      assert.ok(
        waits.every((w) => w.ok),
        `each job starts ${DELAY_MS} ms (+1 s) after its enqueue; started after: ${text}`,
      );
      await fleet.stopAll();
      fleet.passed();
    },
  );
});
