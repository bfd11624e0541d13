/**
 * `npm run bench -- rebalance`: 300 entities under steady load on one pod, then two more pods
 * join; how long until every pod holds within ±15% of an even share, how many entities moved,
 * the throughput while they moved against the steady one, and, from the pods' own ledgers (an
 * external record of every execution: test/fixtures/ledger.ts), lost jobs, overlapping
 * executions of one entity and jobs run out of order. Pods are real processes (the multi-pod
 * tests' pod, test/fixtures/pod.ts), each job a fenced counter update lasting `jobMs`.
 */
import { loadavg } from 'node:os';
import { until } from '../../support/async';
import { analyze, executionsOf, readLedger, type LedgerRecord } from '../../test/fixtures/ledger';
import { PodFleet, type PodHandle } from '../../test/fixtures/pods';
import type { BenchContext, Scenario, ScenarioResult } from '../lib/scenario';
import { round } from '../lib/timing';

const TOLERANCE = 0.15;

interface Settings {
  entities: number;
  jobsPerEntity: number;
  jobMs: number;
  heartbeatTTL: number;
  steadySeconds: number;
}

async function held(pod: PodHandle): Promise<{ activeEntities: number; rebalanced: number }> {
  const reply = await pod.request({ type: 'stats' });
  if (!reply.ok) throw new Error(`${pod.podId} stats: ${reply.error?.message}`);
  return (reply.value as { stats: { activeEntities: number; rebalanced: number } }).stats;
}

/** Completions (ledger `end` lines) between two times of the pods' clock, per second. */
function opsPerSecond(records: readonly LedgerRecord[], from: number, to: number): number {
  const n = records.filter(
    (r) => r.event === 'end' && Number(r.end) >= from && Number(r.end) < to,
  ).length;
  return n / ((to - from) / 1000);
}

async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const s: Settings = ctx.quick
    ? { entities: 60, jobsPerEntity: 80, jobMs: 400, heartbeatTTL: 1, steadySeconds: 3 }
    : { entities: 300, jobsPerEntity: 120, jobMs: 500, heartbeatTTL: 3, steadySeconds: 5 };
  const loadBefore = loadavg().map((l) => round(l, 2));
  const fleet = new PodFleet(`bench_rebalance_${Date.now().toString(36)}`, ctx.redisUrl);
  const podOptions = {
    delayMs: s.jobMs,
    heartbeatTTL: s.heartbeatTTL,
    idleTimeoutSeconds: 60,
    maxLifetimeMs: ctx.deadline.remainingMs(),
    rebalance: { enabled: true },
  };
  try {
    ctx.deadline.phase = 'one pod takes every entity';
    const first = await fleet.start({ podId: 'pod1', ...podOptions });
    for (let i = 0; i < s.entities; i++) {
      const reply = await first.request({
        type: 'enqueueBulk',
        entity: `e${i}`,
        name: 'work',
        data: Array.from({ length: s.jobsPerEntity }, (_, seq) => ({ seq })),
      });
      if (!reply.ok) throw new Error(`enqueue to e${i}: ${reply.error?.message}`);
    }
    const allHeld = await until(async () => (await held(first)).activeEntities === s.entities, {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    if (!allHeld) throw new Error('pod1 did not claim every entity');
    const steadyFrom = Date.now();
    await new Promise((resolve) => setTimeout(resolve, s.steadySeconds * 1000)); // the steady window
    ctx.deadline.phase = 'two pods join';
    const joining = Date.now();
    const pods = [
      first,
      ...(await fleet.startMany(['pod2', 'pod3'].map((podId) => ({ podId, ...podOptions })))),
    ];
    const joinedAt = Date.now();
    const even = s.entities / pods.length;
    let counts: number[] = [];
    let lastLog = 0;
    const balanced = await until(
      async () => {
        counts = (await Promise.all(pods.map(held))).map((x) => x.activeEntities);
        if (Date.now() - lastLog >= 1000) {
          lastLog = Date.now();
          ctx.log(`${((lastLog - joinedAt) / 1000).toFixed(1)} s: held ${counts.join(', ')}`);
        }
        return counts.every((n) => Math.abs(n - even) <= even * TOLERANCE);
      },
      { timeoutMs: 10 * s.heartbeatTTL * 1000, intervalMs: 100 },
    );
    const balancedAt = Date.now();
    ctx.log(`held ${counts.join(', ')} after ${balancedAt - joinedAt} ms`);
    // Two TTLs more: the shares at the end, and what moved (a balanced fleet moves nothing more).
    await new Promise((resolve) => setTimeout(resolve, 2 * s.heartbeatTTL * 1000));
    const end = await Promise.all(pods.map(held));
    ctx.deadline.phase = 'the backlog drains';
    const total = s.entities * s.jobsPerEntity;
    const doneSeqs = (): number => {
      const seen = new Set<string>();
      for (const r of readLedger(fleet.ledgerFiles))
        if (r.event === 'completed') seen.add(`${r.entity}#${r.seq}`);
      return seen.size;
    };
    await until(() => doneSeqs() === total, {
      timeoutMs: Math.max(5_000, ctx.deadline.remainingMs() - 20_000),
      intervalMs: 1000,
    });
    const completed = doneSeqs();
    await fleet.stopAll();
    const records = readLedger(fleet.ledgerFiles);
    const report = analyze(executionsOf(records));
    const unfenced = report.overlaps.filter(
      (o) => o.first.committed !== false && o.second.committed !== false,
    ).length;
    const steady = opsPerSecond(records, steadyFrom, joining);
    const during = opsPerSecond(records, joinedAt, Math.max(balancedAt, joinedAt + 1000));
    const fields = {
      heartbeatTTL: s.heartbeatTTL,
      secondsToBalance: balanced ? round((balancedAt - joinedAt) / 1000, 2) : null,
      maxShareRatio: round(Math.max(...end.map((x) => x.activeEntities)) / even, 3),
      moves: end.reduce((sum, x) => sum + x.rebalanced, 0),
      throughputDuringPct: round((100 * during) / steady, 1),
      lost: total - completed,
      unfencedOverlaps: unfenced,
      orderInversions: report.inversions.length,
      heldAtEnd: end.map((x) => x.activeEntities),
      steadyOpsPerSec: round(steady, 1),
      duringOpsPerSec: round(during, 1),
      loadAverage: { before: loadBefore, after: loadavg().map((l) => round(l, 2)) },
    };
    if (unfenced === 0 && report.inversions.length === 0 && fields.lost === 0) fleet.passed();
    const ttl5 = 5 * s.heartbeatTTL;
    return {
      fields,
      params: { ...s, tolerance: TOLERANCE, pods: 3 },
      table: [
        {
          metric: 'secondsToBalance',
          value: fields.secondsToBalance,
          unit: 's',
          target: `≤ ${ttl5}`,
          ok: fields.secondsToBalance !== null && fields.secondsToBalance <= ttl5,
        },
        {
          metric: 'maxShareRatio',
          value: fields.maxShareRatio,
          target: '≤ 1.15',
          ok: fields.maxShareRatio <= 1.15,
        },
        { metric: 'moves', value: fields.moves },
        {
          metric: 'throughputDuringPct',
          value: fields.throughputDuringPct,
          unit: '%',
          target: '≥ 80',
          ok: fields.throughputDuringPct >= 80,
        },
        { metric: 'lost', value: fields.lost, target: '0', ok: fields.lost === 0 },
        { metric: 'unfencedOverlaps', value: unfenced, target: '0', ok: unfenced === 0 },
        {
          metric: 'orderInversions',
          value: fields.orderInversions,
          target: '0',
          ok: fields.orderInversions === 0,
        },
      ],
      notes: [
        `held at the end: ${fields.heldAtEnd.join(', ')}; load average ${fields.loadAverage.after.join(' ')}`,
      ],
    };
  } finally {
    await fleet.cleanup();
  }
}

const scenario: Scenario = {
  name: 'rebalance',
  description:
    '300 busy entities on one pod, two pods join: time to an even share, moves, ledger checks',
  budgetSeconds: { full: 240, quick: 90 },
  run,
};

export default scenario;
