/** Turns the compare scenario's results into the JSON fields, the target table and the grid. */
import { renderGrid } from '../../lib/grid';
import type { TableRow } from '../../lib/report';
import type { ScenarioResult } from '../../lib/scenario';
import { round } from '../../lib/timing';
import type { Approach } from '../../pods/clients/op-client';
import { EXCLUSIVE, TARGETS, type CompareParams } from './params';
import type { CompareResult } from './run';

const ratio = (a: number | undefined, b: number | undefined): number | null =>
  a !== undefined && b !== undefined && b > 0 ? round(a / b, 2) : null;
const atLeast = (v: number | null, min: number): boolean | null => (v === null ? null : v >= min);

/** An approach at one entity count that did not finish (it stalled, or a process died). */
export interface CompareFailure {
  approach: Approach;
  entities: number;
  error: string;
}

export function compareReport(
  p: CompareParams,
  results: CompareResult[],
  failures: CompareFailure[] = [],
): ScenarioResult {
  const at = (approach: Approach, e: number): CompareResult | undefined =>
    results.find((r) => r.approach === approach && r.entities === e);
  const small = p.entities[0];
  const large = p.entities[p.entities.length - 1];
  const aqSmall = at('atomic-queues', small);
  const aqLarge = at('atomic-queues', large);

  const vsSeedOps = ratio(aqLarge?.opsPerSec, at('seed-baseline', large)?.opsPerSec);
  const vsRawOps = ratio(aqLarge?.opsPerSec, at('raw-bullmq', large)?.opsPerSec);
  const seedConns = at('seed-baseline', large)?.maxRedisConnections;
  const connShare =
    aqLarge && seedConns ? round(seedConns / Math.max(1, aqLarge.maxRedisConnections), 1) : null;
  const vsRedlock = ratio(aqSmall?.opsPerSec, at('redlock', small)?.opsPerSec);
  const vsRedlockTuned = ratio(aqSmall?.opsPerSec, at('redlock-tuned', small)?.opsPerSec);
  const vsGroupmq = p.entities.map((e) =>
    ratio(at('atomic-queues', e)?.opsPerSec, at('groupmq', e)?.opsPerSec),
  );
  const exclusive = results.filter((r) => EXCLUSIVE.includes(r.approach));
  const driftOk = exclusive.length ? exclusive.every((r) => r.drift === 0) : null;
  const failed = results.reduce((s, r) => s + r.failedOps, 0);

  const targetsMet = {
    vsSeedOpsLargeE: atLeast(vsSeedOps, TARGETS.vsSeedOpsLargeE),
    vsRawBullmqLargeE: atLeast(vsRawOps, TARGETS.vsRawBullmqLargeE),
    vsSeedConnectionsLargeE: atLeast(connShare, TARGETS.vsSeedConnectionsLargeE),
    vsRedlockSmallE: atLeast(vsRedlock, TARGETS.vsRedlockSmallE),
    vsRedlockTunedSmallE: atLeast(vsRedlockTuned, TARGETS.vsRedlockTunedSmallE),
    vsGroupmq: vsGroupmq.some((v) => v === null)
      ? null
      : vsGroupmq.every((v) => v! >= TARGETS.vsGroupmq),
    drift: driftOk,
  };

  const table: TableRow[] = [
    {
      metric: `E=${large}: atomic-queues vs seed-baseline, ops/s`,
      value: vsSeedOps,
      unit: '×',
      target: `≥ ${TARGETS.vsSeedOpsLargeE}`,
      ok: targetsMet.vsSeedOpsLargeE,
    },
    {
      metric: `E=${large}: atomic-queues vs raw-bullmq (unordered), ops/s`,
      value: vsRawOps,
      unit: '×',
      target: `≥ ${TARGETS.vsRawBullmqLargeE}`,
      ok: targetsMet.vsRawBullmqLargeE,
    },
    {
      metric: `E=${large}: seed-baseline connections / atomic-queues`,
      value: connShare,
      unit: '×',
      target: `≥ ${TARGETS.vsSeedConnectionsLargeE}`,
      ok: targetsMet.vsSeedConnectionsLargeE,
    },
    {
      metric: `E=${small}: atomic-queues vs redlock, ops/s`,
      value: vsRedlock,
      unit: '×',
      target: `≥ ${TARGETS.vsRedlockSmallE}`,
      ok: targetsMet.vsRedlockSmallE,
    },
    {
      metric: `E=${small}: atomic-queues vs redlock-tuned, ops/s`,
      value: vsRedlockTuned,
      unit: '×',
      target: `≥ ${TARGETS.vsRedlockTunedSmallE}`,
      ok: targetsMet.vsRedlockTunedSmallE,
    },
    ...p.entities.map((e, i): TableRow => ({
      metric: `E=${e}: atomic-queues vs groupmq, ops/s`,
      value: vsGroupmq[i],
      unit: '×',
      target: `≥ ${TARGETS.vsGroupmq}`,
      ok: atLeast(vsGroupmq[i], TARGETS.vsGroupmq),
    })),
    {
      metric: `drift, ${EXCLUSIVE.join(', ')}`,
      value: exclusive.reduce((s, r) => s + r.drift, 0),
      target: '0',
      ok: driftOk,
    },
    { metric: 'failed operations (all approaches)', value: failed, target: '0', ok: failed === 0 },
  ];

  const grid = renderGrid(
    [
      'approach',
      'E',
      'ops',
      'ops/s',
      'p50 ms',
      'p99 ms',
      'drift',
      'max conns',
      'RSS MB',
      'cmds/op',
      'Redis CPU %',
      'procs CPU %',
    ],
    results.map((r) => [
      r.approach,
      r.entities,
      r.ops,
      r.opsPerSec,
      r.p50Ms,
      r.p99Ms,
      r.drift,
      r.maxRedisConnections,
      r.rssMB,
      r.redisCmdsPerOp,
      r.redisCpuPct,
      r.podCpuPct,
    ]),
  );
  const notes = [
    '',
    `waves of ${p.opsPerWave} concurrent operations per entity (${p.entities
      .map((e) => `E=${e}: ${p.waves[e]} waves`)
      .join(', ')}); ` +
      `operation = read → ${p.ioMs} ms → write of the entity's counter in Redis; ` +
      `latency from the driver's call to its completion notice; ${p.pods} worker pods + 1 driver ` +
      '(Redlock: the driver alone); connections and RSS summed over those processes.',
    '',
    grid,
  ];
  const redlockRuns = results.filter((r) => r.approach.startsWith('redlock'));
  if (redlockRuns.length)
    notes.push(
      '',
      'redlock: ' +
        redlockRuns
          .map(
            (r) =>
              `${r.approach} E=${r.entities}: ${r.client.acquireAttempts ?? 0} acquire attempts, ` +
              `${r.client.acquireFailures ?? 0} acquires gave up after their retries`,
          )
          .join('; '),
    );
  if (failures.length)
    table.push({
      metric: 'approaches that did not finish',
      value: failures.length,
      target: '0',
      ok: false,
    });
  return {
    fields: { results, failures, targets: TARGETS, targetsMet },
    params: { ...p, targets: TARGETS },
    table,
    notes,
    failures: failures.map((f) => `${f.approach}, ${f.entities} entities: ${f.error}`),
  };
}
