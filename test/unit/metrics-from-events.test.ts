/**
 * The `metrics` option turns the engine's events into the `atomic_queues_*` metrics of a
 * prom-client registry: names, labels (the entity type, never an id) and values. Events are
 * emitted by hand on engines that are never started; no Redis is touched.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { AtomicEngine, InvalidOptionsError, METRIC_NAMES } from '../../src';

const REDIS = 'redis://127.0.0.1:1'; // never reached

type Sample = { labels: Record<string, string | number>; value: number; metricName?: string };

async function samples(registry: Registry, name: string): Promise<Sample[]> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  assert.ok(metric, `${name} is registered`);
  return metric.values as Sample[];
}

async function value(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const found = (await samples(registry, name)).find((s) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found?.value ?? 0;
}

/** `_count` and `_sum` of a histogram's series for `type`. */
async function histogram(registry: Registry, name: string, type: string) {
  const series = (await samples(registry, name)).filter((s) => s.labels.type === type);
  const pick = (suffix: string) => series.find((s) => s.metricName === `${name}${suffix}`)?.value;
  return { count: pick('_count') ?? 0, sum: pick('_sum') ?? 0 };
}

const job = (entityType: string, entityId: string, durationMs: number, waitMs: number) => ({
  entityType,
  entityId,
  jobId: `${entityId}-1`,
  name: 'op',
  fencingToken: 1,
  durationMs,
  waitMs,
});

describe('metrics from engine events', () => {
  test('every metric has its contract name', async () => {
    const registry = new Registry();
    new AtomicEngine({ redis: REDIS, metrics: { registry } });
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
    assert.deepEqual(names, Object.values(METRIC_NAMES).sort());
    assert.deepEqual(names, [
      'atomic_queues_entities_held',
      'atomic_queues_job_duration_seconds',
      'atomic_queues_job_wait_seconds',
      'atomic_queues_jobs_completed_total',
      'atomic_queues_jobs_failed_total',
      'atomic_queues_jobs_retried_total',
      'atomic_queues_lease_lost_total',
      'atomic_queues_redis_reconnects_total',
    ]);
  });

  test('job events count per entity type and fill the histograms in seconds', async () => {
    const registry = new Registry();
    const engine = new AtomicEngine({ redis: REDIS, metrics: { registry } });
    engine.emit('job:completed', { ...job('account', 'a1', 20, 5), result: 1 });
    engine.emit('job:completed', { ...job('account', 'a2', 30, NaN), result: 2 });
    engine.emit('job:failed', {
      ...job('order', 'o1', 1500, 250),
      error: new Error('x'),
      attempts: 3,
    });
    for (const attempt of [1, 2])
      engine.emit('job:retrying', {
        ...job('order', 'o1', 0, 0),
        attempt,
        error: new Error('x'),
        delayMs: 0,
      });
    const lost = {
      entityType: 'account',
      entityId: 'a1',
      fencingToken: 1,
      reason: 'lost' as const,
    };
    engine.emit('lease:lost', lost);
    engine.emit('redis:restored', { target: '127.0.0.1:6379', downtimeMs: 1200 });

    assert.equal(await value(registry, METRIC_NAMES.jobsCompleted, { type: 'account' }), 2);
    assert.equal(await value(registry, METRIC_NAMES.jobsFailed, { type: 'order' }), 1);
    assert.equal(await value(registry, METRIC_NAMES.jobsFailed, { type: 'account' }), 0);
    assert.equal(await value(registry, METRIC_NAMES.jobsRetried, { type: 'order' }), 2);
    assert.equal(await value(registry, METRIC_NAMES.leaseLost, { type: 'account' }), 1);
    assert.equal(await value(registry, METRIC_NAMES.redisReconnects), 1);

    const duration = await histogram(registry, METRIC_NAMES.jobDuration, 'account');
    assert.equal(duration.count, 2);
    assert.ok(Math.abs(duration.sum - 0.05) < 1e-9, `sum ${duration.sum}`);
    // An unknown wait (NaN) is not observed.
    assert.deepEqual(await histogram(registry, METRIC_NAMES.jobWait, 'account'), {
      count: 1,
      sum: 0.005,
    });
    // Failed jobs are timed too.
    assert.deepEqual(await histogram(registry, METRIC_NAMES.jobDuration, 'order'), {
      count: 1,
      sum: 1.5,
    });
    assert.deepEqual(await histogram(registry, METRIC_NAMES.jobWait, 'order'), {
      count: 1,
      sum: 0.25,
    });
  });

  test('histogram buckets are cumulative, a bound counts in its own bucket, +Inf counts all', async () => {
    const registry = new Registry();
    const engine = new AtomicEngine({ redis: REDIS, metrics: { registry } });
    for (const ms of [5, 5.0001, 400_000])
      // on the 0.005 bound, just above it, above every bound
      engine.emit('job:completed', { ...job('account', 'a1', ms, 0), result: null });
    const buckets = (await samples(registry, METRIC_NAMES.jobDuration)).filter(
      (s) => s.metricName === `${METRIC_NAMES.jobDuration}_bucket`,
    );
    const at = (le: number | string) => buckets.find((s) => s.labels.le === le)?.value;
    assert.equal(at(0.0025), 0);
    assert.equal(at(0.005), 1);
    assert.equal(at(0.01), 2);
    assert.equal(at(300), 2);
    assert.equal(at('+Inf'), 3);
    assert.match(
      await registry.metrics(),
      /^atomic_queues_job_duration_seconds_bucket\{le="0\.005",type="account"\} 1$/m,
    );
  });

  test('no label carries an entity id', async () => {
    const registry = new Registry();
    const engine = new AtomicEngine({ redis: REDIS, metrics: { registry } });
    for (let i = 0; i < 50; i++)
      engine.emit('job:completed', { ...job('account', `acct-${i}`, 1, 1), result: null });
    const text = await registry.metrics();
    assert.doesNotMatch(text, /acct-/);
    const labelNames = new Set(
      (await registry.getMetricsAsJSON()).flatMap((m) =>
        m.values.flatMap((v) => Object.keys(v.labels)),
      ),
    );
    assert.deepEqual([...labelNames].filter((l) => l !== 'le').sort(), ['type']);
    assert.equal(await value(registry, METRIC_NAMES.jobsCompleted, { type: 'account' }), 50);
  });

  test('a type’s counters all show, at 0, from its first event on', async () => {
    const registry = new Registry();
    const engine = new AtomicEngine({ redis: REDIS, metrics: { registry } });
    assert.doesNotMatch(await registry.metrics(), /type="account"/);
    engine.emit('job:completed', { ...job('account', 'a1', 1, 1), result: null });
    const text = await registry.metrics();
    for (const name of [METRIC_NAMES.jobsFailed, METRIC_NAMES.jobsRetried, METRIC_NAMES.leaseLost])
      assert.match(text, new RegExp(`^${name}\\{type="account"\\} 0$`, 'm'));
    assert.match(text, /^atomic_queues_jobs_completed_total\{type="account"\} 1$/m);
  });

  test('engines sharing a registry add up; a stopped engine stops counting', async () => {
    const registry = new Registry();
    const a = new AtomicEngine({ redis: REDIS, metrics: { registry } });
    const b = new AtomicEngine({ redis: REDIS, metrics: { registry } });
    a.emit('job:completed', { ...job('account', 'a1', 1, 1), result: null });
    b.emit('job:completed', { ...job('account', 'a2', 1, 1), result: null });
    assert.equal(await value(registry, METRIC_NAMES.jobsCompleted, { type: 'account' }), 2);
    await a.stop(); // never started: stops at once
    a.emit('job:completed', { ...job('account', 'a1', 1, 1), result: null });
    b.emit('job:completed', { ...job('account', 'a2', 1, 1), result: null });
    assert.equal(await value(registry, METRIC_NAMES.jobsCompleted, { type: 'account' }), 3);
  });

  test('engines on different registries count apart', async () => {
    const one = new Registry();
    const two = new Registry();
    new AtomicEngine({ redis: REDIS, metrics: { registry: one } }).emit('job:completed', {
      ...job('account', 'a1', 1, 1),
      result: null,
    });
    new AtomicEngine({ redis: REDIS, metrics: { registry: two } });
    assert.equal(await value(one, METRIC_NAMES.jobsCompleted, { type: 'account' }), 1);
    assert.equal(await value(two, METRIC_NAMES.jobsCompleted, { type: 'account' }), 0);
  });

  test('without the option nothing is registered', async () => {
    const { register } = await import('prom-client');
    const before = (await register.getMetricsAsJSON()).length;
    const engine = new AtomicEngine({ redis: REDIS });
    engine.emit('job:completed', { ...job('account', 'a1', 1, 1), result: null });
    assert.equal((await register.getMetricsAsJSON()).length, before);
    assert.equal(register.getSingleMetric(METRIC_NAMES.jobsCompleted), undefined);
  });

  test('`metrics: {}` uses the default registry', async () => {
    const { register } = await import('prom-client');
    const engine = new AtomicEngine({ redis: REDIS, metrics: {} });
    engine.emit('job:completed', { ...job('account', 'a1', 1, 1), result: null });
    assert.equal(await value(register, METRIC_NAMES.jobsCompleted, { type: 'account' }), 1);
    register.clear();
  });

  test('a bad `metrics` option is refused at construction, naming it', () => {
    assert.throws(
      () => new AtomicEngine({ redis: REDIS, metrics: 5 as never }),
      (err: unknown) => err instanceof InvalidOptionsError && err.option === 'metrics',
    );
    assert.throws(
      () => new AtomicEngine({ redis: REDIS, metrics: { registry: {} as never } }),
      (err: unknown) =>
        err instanceof InvalidOptionsError &&
        err.option === 'metrics.registry' &&
        /a prom-client Registry/.test(err.message),
    );
  });
});
