/**
 * `npm run bench -- metrics-listeners`: the CPU the `metrics` option adds to each job, measured
 * in-process where nothing else moves: an engine (never started) emits the job events a running
 * pod emits, with and without the option, in interleaved rounds. The engine emits these events
 * either way; the difference is the metrics' listeners (a counter and two histogram updates per
 * job). Compare it with a pod's CPU per job in `npm run bench -- engine` (~100 µs).
 */
import { Registry } from 'prom-client';
import { AtomicEngine } from '../../src';
import { median } from '../lib/measure';
import type { BenchContext, Scenario, ScenarioResult } from '../lib/scenario';
import { round } from '../lib/timing';

const TYPES = ['account', 'order'];

/** CPU µs per job event over `jobs` events, with or without the metrics. */
function measure(jobs: number, metrics: boolean): number {
  const engine = new AtomicEngine({
    redis: 'redis://127.0.0.1:1', // never connected
    metrics: metrics ? { registry: new Registry() } : undefined,
  });
  const start = process.cpuUsage();
  for (let i = 0; i < jobs; i++) {
    const event = {
      entityType: TYPES[i & 1],
      entityId: `e${i % 1000}`,
      jobId: `j${i}`,
      name: 'op',
      fencingToken: 1,
      durationMs: 1 + (i % 50),
      waitMs: i % 200,
    };
    if (i % 20 === 0) engine.emit('job:failed', { ...event, error: null, attempts: 1 });
    else engine.emit('job:completed', { ...event, result: null });
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / jobs;
}

function run(ctx: BenchContext): Promise<ScenarioResult> {
  const jobs = ctx.quick ? 20_000 : 200_000;
  const rounds = ctx.quick ? 3 : 7;
  measure(jobs, true); // warm-up: JIT, prom-client's first series
  const off: number[] = [];
  const on: number[] = [];
  for (let r = 0; r < rounds; r++) {
    off.push(round(measure(jobs, false), 3));
    on.push(round(measure(jobs, true), 3));
    ctx.log(`round ${r + 1}: ${off[r]} µs/job without metrics, ${on[r]} with`);
  }
  const added = round(median(on) - median(off), 3);
  return Promise.resolve({
    fields: {
      cpuUsPerJobWithoutMetrics: round(median(off), 3),
      cpuUsPerJobWithMetrics: round(median(on), 3),
      metricsCpuUsPerJob: added,
      roundsWithoutMetrics: off,
      roundsWithMetrics: on,
    },
    params: { jobs, rounds, types: TYPES, failedShare: 0.05 },
    table: [
      {
        metric: `job events without metrics (${jobs} per round)`,
        value: median(off),
        unit: 'µs/job',
      },
      { metric: 'job events with metrics', value: median(on), unit: 'µs/job' },
      { metric: 'added by the metrics', value: added, unit: 'µs/job' },
    ],
  });
}

const metricsListeners: Scenario = {
  name: 'metrics-listeners',
  description: 'CPU per job added by the `metrics` option, in-process, interleaved rounds',
  budgetSeconds: { full: 300, quick: 60 },
  run,
};
export default metricsListeners;
