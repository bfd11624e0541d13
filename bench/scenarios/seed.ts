/**
 * `npm run bench -- seed`: the published test of atomic-queues 1.x, on this machine with real processes and
 * a real Redis. 5 pods run the stock app through the Nest module (bench/pods/stock-app); a
 * producer-only driver sends orders: each deducts one unit from k distinct random products of 20
 * (k uniform in 1..16) through `QueueBus.enqueueAndWait`, and is done when all its deductions are.
 * The handler reads the stock, awaits, and writes it back: no lock, so only the library's
 * exclusion keeps the stock right.
 *
 * Phases, as published for atomic-queues 1.x: P1 10,000 orders in 50 waves × 200 concurrent; P2 1,000 orders while the
 * workers are still up (draining towards their idle timeout); P3 wait until every worker closed
 * on idle; P4 1,000 orders from that cold start.
 */
import * as path from 'node:path';
import { ConnectionSampler } from '../lib/connection-sampler';
import { processCpuUsPerUnit, unitCost, type UnitCost } from '../lib/cost';
import type { PodProcess } from '../lib/pod-runner';
import { runUntilCompleted } from '../lib/pod-runner';
import { diffSnapshots } from '../lib/redis-probe';
import type { TableRow } from '../lib/report';
import type { BenchContext, Scenario, ScenarioResult } from '../lib/scenario';
import { sleep } from '../../support/async';
import { round } from '../lib/timing';
import type { StockAppOptions } from '../pods/stock-app/stock-options';
import { stockKey } from '../pods/stock-app/stock-options';
import type {
  StockDriverConfig,
  StockDriverDetails,
  StockPhase,
  StockPhaseResult,
} from '../pods/stock-driver-pod';

const POD_DIR = path.join(__dirname, '..', 'pods');

const TARGETS = Object.freeze({ p1OrdersPerSec: 1_000, stockDrift: 0, podsThatProcessed: 5 });

const OPTIONS = { pods: 'N   processing pods (default 5)' };

function seedParams(ctx: BenchContext) {
  const q = ctx.quick;
  const raw = ctx.options.get('pods');
  const pods = raw === undefined ? 5 : Number(raw);
  if (!Number.isInteger(pods) || pods < 1)
    throw new Error(`Expected \`--pods\` to be an integer ≥ 1, got \`${raw}\``);
  const idleTimeoutSeconds = q ? 2 : 15;
  const phases: StockPhase[] = [
    { name: 'P1', kind: 'orders', waves: q ? 5 : 50, concurrency: 200 },
    { name: 'P2', kind: 'orders', waves: q ? 1 : 5, concurrency: 200 },
    { name: 'P3', kind: 'waitIdle', timeoutMs: idleTimeoutSeconds * 1000 + 60_000 },
    { name: 'P4', kind: 'orders', waves: q ? 1 : 5, concurrency: 200 },
  ];
  return {
    pods,
    products: 20,
    maxItems: 16,
    initialStock: 1_000_000,
    phases,
    orderSeed: 42,
    keyPrefix: 'seedbench',
    ioMs: 0,
    handler: 'GET stock → SET stock − 1 (no lock), in a @CommandHandler via QueueBus',
    idleTimeoutSeconds,
    heartbeatTTL: 3,
    enqueueTimeoutMs: 60_000,
    waitTimeoutMs: 300_000,
    startSettleMs: 1_100,
    connectionSampleMs: 250,
    stallMs: idleTimeoutSeconds * 1000 + 90_000,
  };
}
type SeedParams = ReturnType<typeof seedParams>;

async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const p = seedParams(ctx);
  const productIds = Array.from({ length: p.products }, (_, i) => `sku${i + 1}`);
  const appOptions = (podId: string): StockAppOptions => ({
    redisUrl: ctx.redisUrl,
    keyPrefix: p.keyPrefix,
    podId,
    ioMs: p.ioMs,
    idleTimeoutSeconds: p.idleTimeoutSeconds,
    heartbeatTTL: p.heartbeatTTL,
    enqueueTimeoutMs: p.enqueueTimeoutMs,
  });
  await ctx.probe.cleanPrefix(p.keyPrefix);
  await ctx.probe.client.mset(
    ...productIds.flatMap((id) => [stockKey(p.keyPrefix, id), String(p.initialStock)]),
  );
  const pods: PodProcess[] = [];
  let driver: PodProcess | undefined;
  const sampler = new ConnectionSampler(ctx.probe, `${p.keyPrefix}:`);
  try {
    ctx.deadline.phase = 'seed: starting pods';
    for (let i = 1; i <= p.pods; i++)
      pods.push(
        await ctx.pods.spawn(
          `seed-p${i}`,
          path.join(POD_DIR, 'stock-nest-pod.js'),
          appOptions(`p${i}`),
        ),
      );
    const started = pods.map((w) => w.next('started', 30_000));
    for (const w of pods) w.send({ type: 'go' });
    await Promise.all(started);
    await sleep(p.startSettleMs);
    const driverConfig: StockDriverConfig = {
      ...appOptions('driver'),
      productIds,
      maxItems: p.maxItems,
      phases: p.phases,
      waitTimeoutMs: p.waitTimeoutMs,
      seed: p.orderSeed,
    };
    driver = await ctx.pods.spawn(
      'seed-driver',
      path.join(POD_DIR, 'stock-driver-pod.js'),
      driverConfig,
    );
    const orders = p.phases.reduce(
      (s, ph) => s + (ph.kind === 'orders' ? ph.waves * ph.concurrency : 0),
      0,
    );
    ctx.deadline.phase = `seed: ${orders} orders in phases ${p.phases.map((ph) => ph.name).join(', ')}`;
    let lastLog = Date.now();
    const before = await ctx.probe.snapshot();
    const run = await runUntilCompleted([driver], orders, {
      stallMs: p.stallMs,
      deadline: ctx.deadline,
      onTick: async () => {
        const dead = pods.find((w) => w.exited);
        if (dead) throw new Error(`Pod ${dead.name} exited (code ${dead.exitCode})`);
        await sampler.sampleEvery(p.connectionSampleMs);
        if (Date.now() - lastLog >= 2_000) {
          lastLog = Date.now();
          const held = pods.map((w) => w.latest?.activeEntities ?? 0).join('/');
          ctx.log(`  ${driver?.latest?.completed ?? 0}/${orders} orders, entities held ${held}`);
        }
      },
    });
    await sampler.sample();
    const details = await driver.finalDetails<StockDriverDetails>('seed', (d) => d.done);
    const podReports = await Promise.all(pods.map((w) => w.report()));
    const after = await ctx.probe.snapshot();
    const deductions = Object.values(details.deductionsByProduct).reduce((s, v) => s + v, 0);
    const delta = diffSnapshots(before, after);
    const cost = unitCost([...run.reports, ...podReports], delta, deductions);
    const cpuBy = {
      pods: processCpuUsPerUnit(podReports, deductions),
      driver: processCpuUsPerUnit(run.reports, deductions),
      redis: cost.redisCpuUsPerUnit,
    };
    const stocks = await readStocks(ctx, p, productIds);
    return report(
      p,
      productIds,
      details,
      stocks,
      podReports.map((r) => r.details as PodStats | undefined),
      sampler.maxAll,
      cost,
      cpuBy,
    );
  } finally {
    ctx.deadline.phase = 'seed: stopping';
    await driver?.stop();
    await Promise.all(pods.map((w) => w.stop()));
    await ctx.probe.cleanPrefix(p.keyPrefix);
  }
}

interface PodStats {
  podId: string;
  claims: number;
  releases: number;
  jobsCompleted: number;
  jobsFailed: number;
}

async function readStocks(ctx: BenchContext, p: SeedParams, productIds: string[]) {
  const values = await ctx.probe.client.mget(...productIds.map((id) => stockKey(p.keyPrefix, id)));
  return values.map((v) => Number(v ?? NaN));
}

function phaseFields(r: StockPhaseResult) {
  return {
    orders: r.orders,
    ordersPerSec: round(r.orders / r.seconds),
    deductionsPerSec: round(r.deductions / r.seconds),
    p50OrderMs: r.latency?.p50Ms ?? null,
    p99OrderMs: r.latency?.p99Ms ?? null,
    deductions: r.deductions,
    seconds: round(r.seconds, 2),
    failedOrders: r.failedOrders,
    waveMs: r.waveMs,
    ordersPerSecAfter5Waves: afterWarmUp(r),
  };
}

/**
 * Orders/s over the waves after the first five: the phase without the warm-up of six fresh
 * processes (JIT, heap) on two cores. A diagnostic beside `ordersPerSec`, which the target reads.
 */
function afterWarmUp(r: StockPhaseResult): number | null {
  const later = r.waveMs.slice(5);
  if (later.length === 0) return null;
  const ordersPerWave = r.orders / r.waveMs.length;
  return round((ordersPerWave * later.length) / (later.reduce((s, ms) => s + ms, 0) / 1000));
}

function report(
  p: SeedParams,
  productIds: string[],
  d: StockDriverDetails,
  stocks: number[],
  pods: (PodStats | undefined)[],
  maxRedisConnections: number,
  cost: UnitCost,
  cpuBy: { pods: number; driver: number; redis: number },
): ScenarioResult {
  const stockDriftPerEntity: Record<string, number> = {};
  let stockDrift = 0;
  productIds.forEach((id, i) => {
    const expected = p.initialStock - d.deductionsByProduct[id];
    const drift = Math.abs(expected - stocks[i]);
    stockDriftPerEntity[id] = drift;
    stockDrift += drift;
  });
  const phases = {
    P1: phaseFields(d.phases.P1),
    P2: phaseFields(d.phases.P2),
    P4: phaseFields(d.phases.P4),
  };
  const sum = (f: (s: PodStats) => number): number => pods.reduce((s, x) => s + (x ? f(x) : 0), 0);
  const totals = {
    deductions: Object.values(d.deductionsByProduct).reduce((s, v) => s + v, 0),
    stockDrift,
    stockDriftPerEntity,
    podsThatProcessed: pods.filter((x) => (x?.jobsCompleted ?? 0) > 0).length,
    workerCreates: sum((x) => x.claims),
    idleClosures: sum((x) => x.releases),
    maxRedisConnections,
  };
  const targetsMet = {
    p1OrdersPerSec: phases.P1.ordersPerSec >= TARGETS.p1OrdersPerSec,
    stockDrift: stockDrift === TARGETS.stockDrift,
    podsThatProcessed: totals.podsThatProcessed >= Math.min(TARGETS.podsThatProcessed, p.pods),
  };
  const table: TableRow[] = [];
  for (const [name, ph] of Object.entries(phases)) {
    table.push(
      {
        metric: `${name}: ${ph.orders} orders`,
        value: ph.ordersPerSec,
        unit: 'orders/s',
        ...(name === 'P1'
          ? { target: `≥ ${TARGETS.p1OrdersPerSec}`, ok: targetsMet.p1OrdersPerSec }
          : {}),
      },
      { metric: `${name}: deductions/s`, value: ph.deductionsPerSec, unit: '/s' },
      ...(ph.ordersPerSecAfter5Waves === null
        ? []
        : [
            {
              metric: `${name}: after its first 5 waves (warm-up)`,
              value: ph.ordersPerSecAfter5Waves,
              unit: 'orders/s',
            },
          ]),
      {
        metric: `${name}: order latency p50 / p99`,
        value: `${ph.p50OrderMs} / ${ph.p99OrderMs}`,
        unit: 'ms',
      },
    );
  }
  table.push(
    {
      metric: 'P3: wait until every worker closed on idle',
      value: round(d.phases.P3.seconds, 1),
      unit: 's',
    },
    { metric: 'deductions', value: totals.deductions },
    {
      metric: 'stock drift (sum over products)',
      value: stockDrift,
      target: '0',
      ok: targetsMet.stockDrift,
    },
    {
      metric: 'pods that processed',
      value: `${totals.podsThatProcessed}/${p.pods}`,
      target: `${Math.min(TARGETS.podsThatProcessed, p.pods)}/${p.pods}`,
      ok: targetsMet.podsThatProcessed,
    },
    { metric: 'worker creates (claims)', value: totals.workerCreates },
    { metric: 'idle closures (releases)', value: totals.idleClosures },
    { metric: 'max Redis connections (pods + driver)', value: maxRedisConnections },
    { metric: 'CPU per deduction (pods, driver, Redis)', value: cost.cpuUsPerUnit, unit: 'µs' },
    {
      metric: 'of which pods / driver / Redis',
      value: `${cpuBy.pods} / ${cpuBy.driver} / ${cpuBy.redis}`,
      unit: 'µs',
    },
    { metric: 'Redis commands per deduction', value: cost.redisCallsPerUnit },
  );
  return {
    fields: {
      phases,
      totals,
      cpuUsPerDeduction: cost.cpuUsPerUnit,
      /** Where `cpuUsPerDeduction` went: the 5 pods, the driver, redis-server. */
      cpuUsPerDeductionBy: cpuBy,
      redisCallsPerDeduction: cost.redisCallsPerUnit,
      p3IdleWaitSeconds: round(d.phases.P3.seconds, 2),
      jobsPerPod: pods.map((x) => ({
        pod: x?.podId,
        jobs: x?.jobsCompleted ?? 0,
        claims: x?.claims ?? 0,
        releases: x?.releases ?? 0,
      })),
      failedOrders: phases.P1.failedOrders + phases.P2.failedOrders + phases.P4.failedOrders,
      targets: TARGETS,
      targetsMet,
    },
    params: { ...p, targets: TARGETS },
    table,
    notes: [
      '',
      `jobs per pod: ${pods.map((x) => `${x?.podId}: ${x?.jobsCompleted ?? 0} jobs, ${x?.claims ?? 0} claims`).join('; ')}`,
    ],
  };
}

const seed: Scenario = {
  name: 'seed',
  description:
    "atomic-queues 1.x's headline test: 5 Nest pods, 20 products, orders in phases P1–P4",
  options: OPTIONS,
  budgetSeconds: { full: 900, quick: 120 },
  run,
};
export default seed;
