/**
 * The driver of `npm run bench -- seed`: a producer-only Nest app that sends the orders. An order
 * deducts one unit from k distinct random products (k uniform in 1..maxItems); it is done when
 * all its deductions have completed (QueueBus.enqueueAndWait each, concurrently). Phases run in
 * waves of `concurrency` orders, each wave once the previous one is done; a `waitIdle` phase
 * waits until no pod holds any entity (every worker closed on idle). Reports through `details`.
 */
import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { performance } from 'node:perf_hooks';
import { QueueBus, WorkerManagerService } from '../../src';
import { summarize, type LatencySummary } from '../lib/percentiles';
import { reportError, runPod } from '../lib/pod-child';
import { until } from '../../support/async';
import { seededRandom } from '../../support/random';
import { DeductStockCommand } from './stock-app/deduct-stock.command';
import { StockAppModule } from './stock-app/stock-app.module';
import type { StockAppOptions } from './stock-app/stock-options';

export type StockPhase =
  | { name: string; kind: 'orders'; waves: number; concurrency: number }
  | { name: string; kind: 'waitIdle'; timeoutMs: number };

export interface StockDriverConfig extends StockAppOptions {
  productIds: string[];
  maxItems: number;
  phases: StockPhase[];
  waitTimeoutMs: number;
  /** Seed of the order generator (the same orders every run). */
  seed: number;
}

export interface StockPhaseResult {
  orders: number;
  deductions: number;
  seconds: number;
  latency?: LatencySummary;
  failedOrders: number;
  /** How long each wave took, ms, in order (the first ones carry the processes' warm-up). */
  waveMs: number[];
}

export interface StockDriverDetails {
  phase: string;
  done: boolean;
  phases: Record<string, StockPhaseResult>;
  deductionsByProduct: Record<string, number>;
}

runPod<StockDriverConfig>((config, counter, errors) => {
  let app: INestApplicationContext | undefined;
  const random = seededRandom(config.seed);
  const details: StockDriverDetails = {
    phase: 'starting',
    done: false,
    phases: {},
    deductionsByProduct: Object.fromEntries(config.productIds.map((id) => [id, 0])),
  };
  let orderSeq = 0;

  /** k distinct products, k uniform in 1..maxItems (partial Fisher–Yates). */
  const pickProducts = (): string[] => {
    const ids = [...config.productIds];
    const k = 1 + Math.floor(random() * Math.min(config.maxItems, ids.length));
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(random() * (ids.length - i));
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
    return ids.slice(0, k);
  };

  const runOrders = async (bus: QueueBus, phase: StockPhase & { kind: 'orders' }) => {
    const latencies: number[] = [];
    const result: StockPhaseResult = {
      orders: 0,
      deductions: 0,
      seconds: 0,
      failedOrders: 0,
      waveMs: [],
    };
    const start = performance.now();
    for (let wave = 0; wave < phase.waves; wave++) {
      const waveStart = performance.now();
      const orders = Array.from({ length: phase.concurrency }, () => pickProducts());
      await Promise.all(
        orders.map(async (products) => {
          const orderId = `o${++orderSeq}`;
          const t0 = performance.now();
          const outcomes = await Promise.allSettled(
            products.map((p) =>
              bus.enqueueAndWait(new DeductStockCommand(p, orderId), {
                timeoutMs: config.waitTimeoutMs,
              }),
            ),
          );
          outcomes.forEach((o, i) => {
            if (o.status === 'fulfilled') {
              details.deductionsByProduct[products[i]] += 1;
              result.deductions += 1;
            } else reportError(errors, o.reason, `order ${orderId}, product ${products[i]}`);
          });
          if (outcomes.some((o) => o.status === 'rejected')) result.failedOrders += 1;
          else latencies.push(performance.now() - t0);
          result.orders += 1;
          counter.completed();
        }),
      );
      result.waveMs.push(Math.round(performance.now() - waveStart));
    }
    result.seconds = (performance.now() - start) / 1000;
    result.latency = summarize(latencies, 2);
    return result;
  };

  /** Until no entity has a holder (the sweep index may still list released ones, unheld). */
  const waitIdle = async (workers: WorkerManagerService, timeoutMs: number) => {
    const start = performance.now();
    let held = 0;
    const idle = await until(
      async () => {
        held = (await workers.getClusterEntities()).filter((e) => e.pod !== null).length;
        return held === 0;
      },
      { timeoutMs, intervalMs: 100 },
    );
    if (!idle) throw new Error(`${held} entities still held after ${timeoutMs} ms`);
    const seconds = (performance.now() - start) / 1000;
    return { orders: 0, deductions: 0, seconds, failedOrders: 0, waveMs: [] };
  };

  const run = async (): Promise<void> => {
    app = await NestFactory.createApplicationContext(StockAppModule.driver(config), {
      logger: ['error', 'warn'],
    });
    const bus = app.get(QueueBus);
    const workers = app.get(WorkerManagerService);
    for (const phase of config.phases) {
      details.phase = phase.name;
      details.phases[phase.name] =
        phase.kind === 'orders'
          ? await runOrders(bus, phase)
          : await waitIdle(workers, phase.timeoutMs);
    }
    details.done = true;
    details.phase = 'done';
  };

  return {
    start: () => {
      run().catch((err: unknown) => {
        reportError(errors, err, `phase ${details.phase}`);
        setTimeout(() => process.exit(1), 200);
      });
      return Promise.resolve();
    },
    stop: async () => {
      await app?.close();
    },
    details: () => details,
  };
});
