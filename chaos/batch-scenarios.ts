/**
 * A fault scenario about batches (issue "Throughput"): a runner takes up to `batchSize` jobs of
 * an entity at once and acknowledges them together, so a pod killed in the middle of a batch
 * leaves jobs that ran but whose completion was never stored. Built like the stock scenarios
 * (scenarios.ts) and checked against the same oracle, plus its own checks.
 */
import { sleep } from '../support/async';
import {
  STOCK,
  recoveryCheck,
  stockProducts,
  stockScenario,
  waitUntil,
  withLoad,
  type Scenario,
} from './scenarios';
import { now } from './util';

/** Jobs per batch in this scenario (the entity type's `batchSize`). */
const BATCH = 8;

// ── 16. kill -9 a pod in the middle of a batch ───────────────────────────────

const killMidBatch = stockScenario(
  16,
  'kill-mid-batch',
  `kill -9 a pod while it runs a batch (batchSize ${BATCH}) of an entity with a backlog`,
  () => ({
    entities: { [STOCK]: { idleTimeoutSeconds: 3, maxStalledCount: 50, batchSize: BATCH } },
  }),
  async (env) => {
    const kills = env.params.quick ? 3 : 10;
    const products = stockProducts(env, env.params.quick ? 6 : 9);
    // Entities that get a backlog of short jobs before each kill: their runner is in a batch.
    const backlog = products.slice(0, 3);
    const inBacklog = new Set(backlog);
    let done = 0;
    let midBatch = 0;
    await withLoad(env, { entities: products.slice(3), intervalMs: 250 }, async () => {
      // A round finds no runner mid-batch now and then (a loaded host may finish a backlog
      // before the oracle sees it run): such rounds don't count, and up to 3 × kills are tried.
      for (let round = 0; midBatch < kills && round < 3 * kills && !env.expired(); round++) {
        await sleep(500 + env.random() * 1000);
        await Promise.all(
          backlog.map(async (entity) => {
            for (let j = 0; j < 3 * BATCH; j++)
              await env.enqueue(STOCK, entity, { ms: 10 + Math.floor(env.random() * 30) });
          }),
        );
        // A pod running a backlog entity's job: the batch it took is still going.
        let victim: { pid: number; entity: string } | undefined;
        const busy = await waitUntil(
          env,
          () =>
            (victim = env.oracle
              .openExecutions(now() - 1000)
              .find((e) => inBacklog.has(e.entity))) !== undefined,
          3000,
          5,
        );
        const pod = env.allPods.find((p) => p.alive && p.pid === victim?.pid);
        if (!busy || !pod) continue;
        const at = now();
        await pod.kill();
        done += 1;
        midBatch += 1;
        await env.oracle.fault('kill', pod.name, pod.pid, at, null, `mid-batch ${victim?.entity}`);
        env.restartLater(env.slotOf(pod), 300);
      }
    });
    return {
      faults: done,
      details: { kills: done, midBatchKills: midBatch, batchSize: BATCH },
      after: (e, m, dump) => {
        e.check(`at least ${kills} kills mid-batch`, midBatch >= kills, `${midBatch}`);
        // A crash re-runs only jobs whose completion was not stored: at most a batch per
        // entity per kill (the oracle counts a run of a job already applied as a rerun).
        const reruns = new Map<string, number>();
        for (const x of dump.executions)
          if (x.outcome === 'rerun') reruns.set(x.entity, (reruns.get(x.entity) ?? 0) + 1);
        const worst = Math.max(0, ...reruns.values());
        e.check(
          `re-runs per entity ≤ batchSize × kills (${BATCH} × ${done})`,
          worst <= BATCH * done,
          `max ${worst}, ${JSON.stringify(Object.fromEntries(reruns))}`,
        );
        recoveryCheck(e, m);
      },
    };
  },
);

export const BATCH_SCENARIOS: Scenario[] = [killMidBatch];
