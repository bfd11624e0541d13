/**
 * `npm run bench -- seed-floor`: what `bench seed`'s handler costs on its own, the floor under
 * its figures. The same 5 processes and 20 products, the same store work per deduction (read the
 * stock, write it back minus one: two round trips on one ioredis client per process), as many
 * deductions as P1 makes (~85,000), but no queue: each process owns 4 products and runs each
 * one's deductions one after another. Exclusion here comes from the split, not from the library.
 *
 * `bench seed`'s CPU per deduction less this one's is what the engine (enqueueAndWait, Nest's
 * dispatch, the job's steps in Redis and in the pods) adds to the published handler.
 */
import * as path from 'node:path';
import { sleep } from '../../support/async';
import { processCpuUsPerUnit, unitCost } from '../lib/cost';
import type { PodProcess } from '../lib/pod-runner';
import { runUntilCompleted } from '../lib/pod-runner';
import { diffSnapshots } from '../lib/redis-probe';
import type { BenchContext, Scenario, ScenarioResult } from '../lib/scenario';
import { round } from '../lib/timing';
import type { StoreLoopConfig } from '../pods/store-loop-pod';
import { stockKey } from '../pods/stock-app/stock-options';

const POD_DIR = path.join(__dirname, '..', 'pods');

/** Items per order in `bench seed`: k uniform in 1..16, 8.5 on average. */
const MEAN_ITEMS_PER_ORDER = 8.5;

async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const p = {
    pods: 5,
    products: 20,
    perProduct: ctx.quick ? 425 : 4_250,
    initialStock: 1_000_000,
    keyPrefix: 'seedfloor',
    startSettleMs: 500,
    stallMs: 30_000,
  };
  const productIds = Array.from({ length: p.products }, (_, i) => `sku${i + 1}`);
  const total = p.products * p.perProduct;
  await ctx.probe.cleanPrefix(p.keyPrefix);
  await ctx.probe.client.mset(
    ...productIds.flatMap((id) => [stockKey(p.keyPrefix, id), String(p.initialStock)]),
  );
  const pods: PodProcess[] = [];
  try {
    ctx.deadline.phase = 'seed-floor: starting processes';
    for (let i = 0; i < p.pods; i++) {
      const config: StoreLoopConfig = {
        redisUrl: ctx.redisUrl,
        keyPrefix: p.keyPrefix,
        podId: `p${i + 1}`,
        productIds: productIds.filter((_, j) => j % p.pods === i),
        perProduct: p.perProduct,
      };
      pods.push(
        await ctx.pods.spawn(`floor-p${i + 1}`, path.join(POD_DIR, 'store-loop-pod.js'), config),
      );
    }
    await sleep(p.startSettleMs);
    ctx.deadline.phase = `seed-floor: ${total} deductions`;
    const before = await ctx.probe.snapshot();
    const result = await runUntilCompleted(pods, total, {
      stallMs: p.stallMs,
      deadline: ctx.deadline,
    });
    const after = await ctx.probe.snapshot();
    const cost = unitCost(result.reports, diffSnapshots(before, after), total);
    const stocks = await ctx.probe.client.mget(
      ...productIds.map((id) => stockKey(p.keyPrefix, id)),
    );
    const stockDrift = stocks.reduce(
      (sum, v) => sum + Math.abs(p.initialStock - p.perProduct - Number(v ?? NaN)),
      0,
    );
    const deductionsPerSec = round(total / (result.elapsedMs / 1000));
    const cpuBy = {
      processes: processCpuUsPerUnit(result.reports, total),
      redis: cost.redisCpuUsPerUnit,
    };
    return {
      fields: {
        deductions: total,
        seconds: round(result.elapsedMs / 1000, 2),
        deductionsPerSec,
        /** Orders/s at `bench seed`'s mean of 8.5 items an order, were the handler all there was. */
        ordersPerSecEquivalent: round(deductionsPerSec / MEAN_ITEMS_PER_ORDER),
        cpuUsPerDeduction: cost.cpuUsPerUnit,
        cpuUsPerDeductionBy: cpuBy,
        redisCallsPerDeduction: cost.redisCallsPerUnit,
        stockDrift,
      },
      params: { ...p, meanItemsPerOrder: MEAN_ITEMS_PER_ORDER },
      table: [
        { metric: 'deductions', value: total },
        { metric: 'deductions/s', value: deductionsPerSec, unit: '/s' },
        {
          metric: 'as orders of 8.5 items',
          value: round(deductionsPerSec / MEAN_ITEMS_PER_ORDER),
          unit: 'orders/s',
        },
        { metric: 'CPU per deduction (processes, Redis)', value: cost.cpuUsPerUnit, unit: 'µs' },
        {
          metric: 'of which processes / Redis',
          value: `${cpuBy.processes} / ${cpuBy.redis}`,
          unit: 'µs',
        },
        { metric: 'Redis commands per deduction', value: cost.redisCallsPerUnit },
        {
          metric: 'stock drift (sum over products)',
          value: stockDrift,
          target: '0',
          ok: stockDrift === 0,
        },
      ],
      notes: [
        '',
        "the floor under `bench seed`: its CPU per deduction less this one's is the engine's share",
      ],
    };
  } finally {
    ctx.deadline.phase = 'seed-floor: stopping';
    await Promise.all(pods.map((w) => w.stop()));
    await ctx.probe.cleanPrefix(p.keyPrefix);
  }
}

const seedFloor: Scenario = {
  name: 'seed-floor',
  description: "bench seed's handler alone (no queue): the floor under its CPU per deduction",
  budgetSeconds: { full: 180, quick: 60 },
  run,
};
export default seedFloor;
