/**
 * `npm run bench -- compare` keeps the figures of every approach that finished when one does not
 * (it stalled, or a pod died): the JSON lists the failure under `failures`, the ratios that
 * needed it are null, and the run is marked failed (the CLI exits 1 after writing the JSON).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CompareParams } from '../../bench/scenarios/compare/params';
import { compareReport } from '../../bench/scenarios/compare/report';
import type { CompareResult } from '../../bench/scenarios/compare/run';

const params = {
  entities: [20, 1000],
  waves: { 20: 2, 1000: 2 },
  opsPerWave: 50,
  ioMs: 1,
  pods: 2,
  approaches: ['atomic-queues', 'raw-bullmq'],
} as unknown as CompareParams;

function result(approach: CompareResult['approach'], entities: number, opsPerSec: number) {
  return {
    approach,
    entities,
    opsPerSec,
    p50Ms: 1,
    p99Ms: 2,
    drift: 0,
    maxRedisConnections: 4,
    rssMB: 100,
    ops: 100,
    waves: 2,
    p90Ms: 2,
    maxMs: 3,
    entitiesWithDrift: 0,
    failedOps: 0,
    processes: 3,
    workerPods: 2,
    podCpuPct: 100,
    redisCpuPct: 40,
    redisCmdsPerOp: 20,
    cpuUsPerOp: 200,
    redisCallsPerOp: 20,
    warmupMs: 10,
    waveMs: [1, 1],
    client: {},
    pods: [],
  } satisfies CompareResult;
}

describe('bench compare report', () => {
  it('keeps the finished approaches and lists the one that did not finish', () => {
    const report = compareReport(
      params,
      [result('atomic-queues', 20, 5_000), result('atomic-queues', 1000, 8_000)],
      [{ approach: 'raw-bullmq', entities: 1000, error: 'Stalled: 10 of 100 jobs completed' }],
    );
    const fields = report.fields as {
      results: CompareResult[];
      failures: unknown[];
      targetsMet: Record<string, boolean | null>;
    };
    assert.deepEqual(
      fields.results.map((r) => [r.approach, r.entities, r.opsPerSec]),
      [
        ['atomic-queues', 20, 5_000],
        ['atomic-queues', 1000, 8_000],
      ],
    );
    assert.deepEqual(fields.failures, [
      { approach: 'raw-bullmq', entities: 1000, error: 'Stalled: 10 of 100 jobs completed' },
    ]);
    assert.equal(fields.targetsMet.vsRawBullmqLargeE, null, 'no ratio without raw-bullmq');
    assert.deepEqual(report.failures, [
      'raw-bullmq, 1000 entities: Stalled: 10 of 100 jobs completed',
    ]);
    const row = report.table.find((r) => r.metric === 'approaches that did not finish');
    assert.equal(row?.ok, false);
  });

  it('reports no failure when every approach finished', () => {
    const report = compareReport(params, [
      result('atomic-queues', 1000, 8_000),
      result('raw-bullmq', 1000, 6_000),
    ]);
    assert.deepEqual((report.fields as { failures: unknown[] }).failures, []);
    assert.deepEqual(report.failures, []);
    assert.equal(
      (report.fields as { targetsMet: Record<string, unknown> }).targetsMet.vsRawBullmqLargeE,
      true,
    );
  });
});
