/**
 * A pod of `npm run bench -- seed`: the stock app (bench/pods/stock-app) as a Nest application
 * context, processing `product` entities through the Nest module. Counts completed deductions
 * with QueueEventsManagerService; reports the engine's counters (claims, releases) in `details`.
 */
import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { QueueEventsManagerService, WorkerManagerService } from '../../src';
import { reportError, runPod } from '../lib/pod-child';
import { StockAppModule } from './stock-app/stock-app.module';
import type { StockAppOptions } from './stock-app/stock-options';

runPod<StockAppOptions>((config, counter, errors) => {
  let app: INestApplicationContext | undefined;
  let workers: WorkerManagerService | undefined;
  return {
    start: async () => {
      app = await NestFactory.createApplicationContext(StockAppModule.pod(config), {
        logger: ['error', 'warn'],
      });
      const events = app.get(QueueEventsManagerService);
      events.on('job:completed', () => counter.completed());
      events.on('job:failed', (e) => reportError(errors, e.error, 'running a job (job:failed)'));
      events.on('error', (err, context) => reportError(errors, err, context));
      workers = app.get(WorkerManagerService);
    },
    stop: async () => {
      await app?.close();
    },
    activeEntities: () => workers?.getActiveEntities().length ?? 0,
    details: () => workers?.getStats(),
  };
});
