/**
 * The `atomic_queues_*` metrics of real jobs on a real Redis: counters equal to what ran (and to
 * the engine's own stats), histograms with one observation per finished job, the entities-held
 * gauge while entities are held and after they are released, a lost lease counted.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { METRIC_NAMES, type AtomicEngine } from '../../src';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';
import { leaseKey } from '../fixtures/queue-state';

/** The value of one series of a metric (`labels` exact), or 0 when it has none. */
async function sample(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
  metricName = name,
): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  assert.ok(metric, `${name} is registered`);
  const values = metric.values as { labels: object; value: number; metricName?: string }[];
  const found = values.find(
    (v) =>
      (v.metricName ?? name) === metricName &&
      JSON.stringify(
        Object.entries(v.labels)
          .filter(([k]) => k !== 'le')
          .sort(),
      ) === JSON.stringify(Object.entries(labels).sort()),
  );
  return found?.value ?? 0;
}

describe('metrics of real jobs', () => {
  const { prefix, engines, redis } = integrationSuite('metricsRealJobs');
  const registry = new Registry();
  let engine: AtomicEngine;
  let gate: Promise<void> = Promise.resolve();
  let openGate = (): void => undefined;

  before(async () => {
    engine = engines.create({
      podId: 'metrics-pod',
      metrics: { registry },
      // A long TTL: only the test takes the lease away.
      workerDefaults: { heartbeatTTL: 30 },
      entities: {
        account: { idleTimeoutSeconds: 0.5 },
        order: { attempts: 3, idleTimeoutSeconds: 30 },
        ledger: { idleTimeoutSeconds: 30 },
      },
    });
    engine.registerHandler('account', async (job) => {
      await new Promise((resolve) => setTimeout(resolve, (job.data as { ms: number }).ms));
      return 'ok';
    });
    engine.registerHandler('order', () => {
      throw new Error('never works');
    });
    engine.registerHandler('ledger', () => gate);
    await engine.start();
  });

  test('completed jobs: counter, duration and wait histograms, by type', async () => {
    await Promise.all([
      ...[1, 2, 3].map((i) => engine.enqueueAndWait('account', 'a1', 'op', { ms: 20 * i })),
      engine.enqueueAndWait('account', 'a2', 'op', { ms: 40 }),
    ]);
    const labels = { type: 'account' };
    assert.equal(await sample(registry, METRIC_NAMES.jobsCompleted, labels), 4);
    assert.equal(engine.getStats().jobsCompleted, 4);
    const d = METRIC_NAMES.jobDuration;
    assert.equal(await sample(registry, d, labels, `${d}_count`), 4);
    const seconds = await sample(registry, d, labels, `${d}_sum`);
    // The handlers slept 20 + 40 + 60 + 40 ms.
    assert.ok(seconds >= 0.16 && seconds < 2, `duration sum ${seconds} s`);
    const w = METRIC_NAMES.jobWait;
    assert.equal(await sample(registry, w, labels, `${w}_count`), 4);
    // a1's third job waited for the first two (60 ms of handlers at least).
    const waited = await sample(registry, w, labels, `${w}_sum`);
    assert.ok(waited >= 0.06, `wait sum ${waited} s`);
  });

  test('entities held: counted while held, gone once released', async () => {
    assert.equal(await sample(registry, METRIC_NAMES.entitiesHeld, { type: 'account' }), 2);
    await waitFor(
      async () => (await sample(registry, METRIC_NAMES.entitiesHeld, { type: 'account' })) === 0,
      { timeoutMs: 10_000, message: 'the account entities released (idle 0.5 s)' },
    );
  });

  test('a failing job: retries, then one failure', async () => {
    await assert.rejects(engine.enqueueAndWait('order', 'o1', 'op', {}), /never works/);
    const labels = { type: 'order' };
    assert.equal(await sample(registry, METRIC_NAMES.jobsRetried, labels), 2);
    assert.equal(await sample(registry, METRIC_NAMES.jobsFailed, labels), 1);
    assert.equal(await sample(registry, METRIC_NAMES.jobsCompleted, labels), 0);
    assert.equal(engine.getStats().jobsFailed, 1);
    const d = METRIC_NAMES.jobDuration;
    assert.equal(await sample(registry, d, labels, `${d}_count`), 1);
  });

  test('a lease taken by another holder while the job runs: lease_lost', async () => {
    gate = new Promise((resolve) => (openGate = resolve));
    const lost = new Promise((resolve) => engine.once('lease:lost', resolve));
    await engine.enqueue('ledger', 'l1', 'op', {});
    await waitFor(() => engine.activeEntities().some((e) => e.entityId === 'l1'), {
      message: 'l1 claimed',
    });
    // What a takeover by another pod looks like to this one: the lease has another token.
    await redis.hset(leaseKey(prefix, 'ledger', 'l1'), 't', 'another-holder', 'p', 'elsewhere');
    openGate();
    await lost;
    assert.equal(await sample(registry, METRIC_NAMES.leaseLost, { type: 'ledger' }), 1);
    assert.equal(engine.getStats().leasesLost, 1);
    await redis.del(leaseKey(prefix, 'ledger', 'l1'));
  });

  test('the scrape is Prometheus text with the contract names', async () => {
    const text = await registry.metrics();
    assert.match(text, /^atomic_queues_jobs_completed_total\{type="account"\} 4$/m);
    assert.match(text, /^# TYPE atomic_queues_job_duration_seconds histogram$/m);
    assert.match(text, /^atomic_queues_job_wait_seconds_count\{type="account"\} 4$/m);
    assert.match(text, /^# TYPE atomic_queues_entities_held gauge$/m);
    assert.doesNotMatch(text, /a1|a2|o1|l1/, 'no entity id in any label');
  });
});
