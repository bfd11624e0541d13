/**
 * Redis Cluster scenarios (`npm run chaos -- --cluster`): every scenario runs on its own
 * 3 masters + 3 replicas. The pod faults of the suite run there as they are; the master
 * failover is the Cluster's own: a master dies ahead of its replica (the writes of its last
 * second never reached it) and the replica is promoted while pods run and the driver enqueues.
 * Run without the durability option, jobs acknowledged in that second may be lost (reported);
 * with it (`WAIT 1`), an acknowledged job is on the replica, so none may be.
 */
import type { DurabilityOptions } from '../src';
import { sleep } from '../support/async';
import type { ScenarioEnv } from './harness';
import { FAILOVER, type ExecutionRow, type FaultRow, type OracleDump } from './oracle';
import {
  STOCK,
  recoveryCheck,
  stockProducts,
  stockScenario,
  withLoad,
  type Scenario,
} from './scenarios';
import { now, percentile } from './util';

/** How long the dying master takes writes its replica never gets. */
const UNREPLICATED_MS = 1000;
/** The durable variant: one replica confirms each enqueue within 500 ms. */
const DURABILITY: DurabilityOptions = { replicas: 1, timeoutMs: 500 };
const START_ORDER = 'executions start in enqueue order';
const LOST = 'lost = 0';
const DRAINED = 'backlog drained before the deadline';

/**
 * Executions that started after `f` ended with a token below the highest of their entity before
 * it, or equal to it on another pod (a token names one holder). A holder that kept its lease
 * through the failover keeps its token.
 */
export function tokensWentBack(dump: OracleDump, f: FaultRow): string[] {
  const out: string[] = [];
  const byEntity = new Map<string, ExecutionRow[]>();
  for (const e of dump.executions) byEntity.set(e.entity, [...(byEntity.get(e.entity) ?? []), e]);
  for (const [entity, rows] of byEntity) {
    const before = rows.filter((e) => e.start < f.at);
    if (before.length === 0) continue;
    const top = before.reduce((a, b) => (b.fence > a.fence ? b : a));
    for (const e of rows) {
      if (e.start <= (f.until ?? f.at)) continue;
      if (e.fence < top.fence || (e.fence === top.fence && e.pid !== top.pid))
        out.push(`${entity}: token ${e.fence} (pod ${e.pod}) after ${top.fence} (pod ${top.pod})`);
    }
  }
  return out;
}

/**
 * Per entity, executions that started after one of a later job, re-runs (the effect was
 * applied already: the failover dropped the completion, not the job) aside.
 */
function firstRunsOutOfOrder(dump: OracleDump): string[] {
  const out: string[] = [];
  const byEntity = new Map<string, ExecutionRow[]>();
  for (const e of dump.executions)
    if (e.outcome !== 'fenced' && e.outcome !== 'rerun')
      byEntity.set(e.entity, [...(byEntity.get(e.entity) ?? []), e]);
  for (const [entity, rows] of byEntity) {
    rows.sort((a, b) => a.start - b.start);
    let highest = -Infinity;
    for (const e of rows) {
      if (e.seq < highest) out.push(`${entity}: seq ${e.seq} (${e.outcome}) after seq ${highest}`);
      highest = Math.max(highest, e.seq);
    }
  }
  return out;
}

function masterFailover(number: number, name: string, durability?: DurabilityOptions): Scenario {
  const how = durability
    ? `enqueues wait for ${durability.replicas} replica (WAIT, ${durability.timeoutMs} ms)`
    : 'no durability option';
  const scenario = stockScenario(
    number,
    name,
    `kill -9 a master ${UNREPLICATED_MS} ms ahead of its replica under load; the replica is promoted (${how})`,
    () => ({
      entities: { [STOCK]: { idleTimeoutSeconds: 3, maxStalledCount: 50 } },
      durability,
    }),
    async (env: ScenarioEnv) => {
      const quick = env.params.quick;
      const products = stockProducts(env, quick ? 12 : 18);
      let fault: { killedPort: number; promotedPort: number; failoverMs: number } | undefined;
      /** From just before the replication link is cut. */
      let unreplicatedFrom = 0;
      await withLoad(
        env,
        { entities: products, intervalMs: 100, msRange: [50, 150] },
        async () => {
          await sleep(quick ? 1500 : 4000);
          const victim = (await env.cluster.listNodes()).find(
            (n) => n.role === 'master' && !n.failed,
          );
          if (!victim) throw new Error('no live master');
          unreplicatedFrom = now();
          const result = await env.cluster.failover({
            master: victim.port,
            unreplicatedMs: UNREPLICATED_MS,
          });
          const promotedAt = now();
          await env.oracle.fault(
            FAILOVER,
            `redis:${victim.port}`,
            victim.pid,
            promotedAt - result.failoverMs,
            promotedAt,
            `${result.killedPort} → ${result.promotedPort}`,
          );
          fault = result;
          await sleep(quick ? 2000 : 4000);
        },
        2000,
      );
      const details: Record<string, unknown> = {
        durability: durability ?? null,
        unreplicatedMs: UNREPLICATED_MS,
        failover: fault ?? null,
        notReplicatedEnqueues: env.notReplicated,
        enqueueErrorKinds: { ...env.enqueueErrorKinds },
      };
      return {
        faults: fault ? 1 : 0,
        // Without the option, losing what the dying master acknowledged is what is measured.
        // A job whose completion the failover dropped runs again (its effect is not applied
        // twice): the first runs must keep their order, checked below.
        // The lost jobs never drain: checked below to be those of the dying master's last second.
        soft: durability ? [START_ORDER] : [LOST, DRAINED, START_ORDER],
        details,
        after: (e, m, dump) => {
          const ackMs = dump.enqueued.map((x) => x.acked_at - x.sent_at);
          details.enqueueAckMs = { p50: percentile(ackMs, 50), p99: percentile(ackMs, 99) };
          e.check('a master failed over to its replica', fault !== undefined, '');
          const failovers = dump.faults.filter((f) => f.kind === FAILOVER);
          const promoted = Math.max(...failovers.map((f) => f.until ?? f.at));
          const acked = dump.enqueued.filter((x) => x.acked_at > promoted).length;
          e.check('the producer enqueued again after the failover', acked > 0, `${acked} acks`);
          const back = failovers.flatMap((f) => tokensWentBack(dump, f));
          e.check(
            'fencing tokens never went back through the failover',
            back.length === 0,
            back.slice(0, 5).join('; '),
          );
          const disorder = firstRunsOutOfOrder(dump);
          e.check(
            'first runs of jobs start in enqueue order (re-runs aside)',
            disorder.length === 0,
            disorder.slice(0, 5).join('; '),
          );
          if (durability)
            e.check(
              'enqueues the dying master could not replicate were rejected (ReplicationTimeoutError)',
              env.notReplicated > 0,
              `${env.notReplicated}`,
            );
          const killedAt = Math.min(...failovers.map((f) => f.at));
          const applied = new Set(dump.applied.map((x) => x.business_id));
          const outside = dump.enqueued.filter(
            (x) =>
              x.expect === 'commit' &&
              !applied.has(x.business_id) &&
              (x.acked_at < unreplicatedFrom || x.acked_at > killedAt),
          );
          e.check(
            'every lost job was acknowledged while the dying master was ahead of its replica',
            outside.length === 0,
            outside
              .slice(0, 5)
              .map((x) => `${x.job_id} acked ${Math.round(x.acked_at - killedAt)} ms from the kill`)
              .join('; '),
          );
          recoveryCheck(e, m);
        },
      };
    },
  );
  // Needs a Cluster whatever the run: one is started for it.
  return { ...scenario, run: (params) => scenario.run({ ...params, cluster: true }) };
}

export const MASTER_FAILOVER = masterFailover(17, 'master-failover');
export const MASTER_FAILOVER_DURABLE = masterFailover(18, 'master-failover-durable', DURABILITY);

/** What `--cluster` runs: pod faults on a Cluster, then the master failovers. */
export const CLUSTER_SCENARIO_NAMES = [
  'kill-pod',
  'sigstop',
  'rolling-restart',
  'retry-backoff',
  MASTER_FAILOVER.name,
  MASTER_FAILOVER_DURABLE.name,
];
