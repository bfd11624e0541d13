/**
 * `npm run bench -- latency`: the round trip of one `enqueueAndWait`, one call at a time, on a
 * warm entity (held by a pod) and on a cold one (a fresh id each call: held by no pod, so the
 * call includes the claim), next to a Redlock acquire → read → write → release on the same
 * Redis. The handler does the same read → write of a counter as the Redlock critical section.
 * Pods: `--pods` processing engine pods; the driver is a separate producer-only process.
 */
import * as path from 'node:path';
import { readCounters } from '../lib/counter';
import type { PodProcess } from '../lib/pod-runner';
import { runUntilCompleted } from '../lib/pod-runner';
import type { TableRow } from '../lib/report';
import {
  positiveIntOption,
  type BenchContext,
  type Scenario,
  type ScenarioResult,
} from '../lib/scenario';
import { sleep } from '../../support/async';
import { round } from '../lib/timing';
import type { AqCounterPodConfig } from '../pods/aq-counter-pod';
import type { LatencyDriverConfig, LatencyDriverDetails } from '../pods/latency-driver-pod';

const POD_DIR = path.join(__dirname, '..', 'pods');

const TARGETS = Object.freeze({ warmP50Ms: 1 });

const OPTIONS = {
  calls: 'N   measured calls of each kind (default 5,000; 500 with --quick)',
  pods: 'N    processing engine pods (default 2)',
};

function latencyParams(ctx: BenchContext) {
  return {
    calls: positiveIntOption(ctx, 'calls', ctx.quick ? 500 : 5_000),
    warmupCalls: ctx.quick ? 50 : 200,
    blockSize: 100,
    order: 'interleaved blocks: warm ×blockSize, cold ×blockSize, redlock ×blockSize, …',
    pods: positiveIntOption(ctx, 'pods', 2),
    keyPrefix: 'lat',
    entityType: 'e',
    warmEntityId: 'warm',
    coldIdPrefix: 'cold',
    redlockEntityId: 'rl',
    work: 'GET counter → SET counter + 1 (handler and Redlock critical section alike)',
    engineHeartbeatTTL: 3,
    engineIdleTimeoutSeconds: 15,
    redlock: 'redlock@5.0.0-beta.2, default settings (uncontended: no retry happens)',
    lockTtlMs: 10_000,
    waitTimeoutMs: 30_000,
    startSettleMs: 1_100,
    stallMs: 30_000,
  };
}
type LatencyParams = ReturnType<typeof latencyParams>;

async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const p = latencyParams(ctx);
  await ctx.probe.cleanPrefix(p.keyPrefix);
  const pods: PodProcess[] = [];
  let driver: PodProcess | undefined;
  try {
    ctx.deadline.phase = 'latency: starting processes';
    for (let i = 1; i <= p.pods; i++) {
      const config: AqCounterPodConfig = {
        redisUrl: ctx.redisUrl,
        keyPrefix: p.keyPrefix,
        podId: `p${i}`,
        entityType: p.entityType,
        idleTimeoutSeconds: p.engineIdleTimeoutSeconds,
        heartbeatTTL: p.engineHeartbeatTTL,
        ioMs: 0,
      };
      pods.push(
        await ctx.pods.spawn(`latency-p${i}`, path.join(POD_DIR, 'aq-counter-pod.js'), config),
      );
    }
    const started = pods.map((w) => w.next('started', 20_000));
    for (const w of pods) w.send({ type: 'go' });
    await Promise.all(started);
    await sleep(p.startSettleMs);
    const driverConfig: LatencyDriverConfig = {
      redisUrl: ctx.redisUrl,
      keyPrefix: p.keyPrefix,
      entityType: p.entityType,
      calls: p.calls,
      warmupCalls: p.warmupCalls,
      blockSize: p.blockSize,
      waitTimeoutMs: p.waitTimeoutMs,
      lockTtlMs: p.lockTtlMs,
      warmEntityId: p.warmEntityId,
      redlockEntityId: p.redlockEntityId,
      coldIdPrefix: p.coldIdPrefix,
    };
    driver = await ctx.pods.spawn(
      'latency-driver',
      path.join(POD_DIR, 'latency-driver-pod.js'),
      driverConfig,
    );
    ctx.deadline.phase = `latency: ${p.calls} calls of each kind`;
    const total = 3 * p.calls;
    await runUntilCompleted([driver], total, {
      stallMs: p.stallMs,
      deadline: ctx.deadline,
      onTick: () => {
        const dead = pods.find((w) => w.exited);
        if (dead) throw new Error(`Pod ${dead.name} exited (code ${dead.exitCode})`);
        return Promise.resolve();
      },
    });
    const details = await driver.finalDetails<LatencyDriverDetails>(
      'latency',
      (d) => d.phase === 'done',
    );
    const check = await checkCounters(ctx, p);
    const podJobs = (await Promise.all(pods.map((w) => w.report()))).map((r) => r.completed);
    ctx.log(`jobs per pod ${podJobs.join('/')}, counters ${check.ok ? 'right' : 'WRONG'}`);
    return report(p, details, check, podJobs);
  } finally {
    ctx.deadline.phase = 'latency: stopping';
    await driver?.stop();
    await Promise.all(pods.map((w) => w.stop()));
    await ctx.probe.cleanPrefix(p.keyPrefix);
  }
}

/** Every call ran exactly once: warm and Redlock counters = warm-up + calls; each cold one 1. */
async function checkCounters(ctx: BenchContext, p: LatencyParams) {
  const [warm, redlock] = await readCounters(ctx.probe.client, p.keyPrefix, [
    p.warmEntityId,
    p.redlockEntityId,
  ]);
  const coldIds = Array.from({ length: p.calls }, (_, i) => `${p.coldIdPrefix}${i}`);
  const cold = await readCounters(ctx.probe.client, p.keyPrefix, coldIds);
  const expected = p.warmupCalls + p.calls;
  const coldWrong = cold.filter((v) => v !== 1).length;
  return {
    ok: warm === expected && redlock === expected && coldWrong === 0,
    warmCounter: warm,
    redlockCounter: redlock,
    expected,
    coldEntitiesNotAtOne: coldWrong,
  };
}

function report(
  p: LatencyParams,
  d: LatencyDriverDetails,
  check: Awaited<ReturnType<typeof checkCounters>>,
  podJobs: number[],
): ScenarioResult {
  const warm = d.warm!;
  const cold = d.cold!;
  const redlock = d.redlock!;
  const fields = {
    warmP50Ms: warm.p50Ms,
    warmP99Ms: warm.p99Ms,
    coldP50Ms: cold.p50Ms,
    coldP99Ms: cold.p99Ms,
    redlockP50Ms: redlock.p50Ms,
    redlockP99Ms: redlock.p99Ms,
    warmP90Ms: warm.p90Ms,
    warmMeanMs: warm.meanMs,
    warmMaxMs: warm.maxMs,
    coldP90Ms: cold.p90Ms,
    coldMeanMs: cold.meanMs,
    coldMaxMs: cold.maxMs,
    coldOver500Ms: cold.over500Ms,
    warmOver500Ms: warm.over500Ms,
    redlockP90Ms: redlock.p90Ms,
    redlockMeanMs: redlock.meanMs,
    redlockMaxMs: redlock.maxMs,
    calls: p.calls,
    redlockAcquireAttempts: d.redlockAttempts,
    /** How many times the Redlock p50 the warm p50 is (below 1: warm is faster). */
    warmP50OverRedlockP50: round(warm.p50Ms / redlock.p50Ms, 2),
    jobsPerPod: podJobs,
    countersRight: check.ok,
    counterCheck: check,
    targets: TARGETS,
    targetsMet: { warmP50Ms: warm.p50Ms <= TARGETS.warmP50Ms },
  };
  const row = (metric: string, s: typeof warm): TableRow[] => [
    { metric: `${metric} p50`, value: s.p50Ms, unit: 'ms' },
    { metric: `${metric} p99`, value: s.p99Ms, unit: 'ms' },
  ];
  const table: TableRow[] = [
    {
      metric: `enqueueAndWait, warm entity p50 (${p.calls} calls)`,
      value: warm.p50Ms,
      unit: 'ms',
      target: `≤ ${TARGETS.warmP50Ms}`,
      ok: fields.targetsMet.warmP50Ms,
    },
    { metric: 'enqueueAndWait, warm entity p99', value: warm.p99Ms, unit: 'ms' },
    ...row('enqueueAndWait, cold entity (fresh id)', cold),
    { metric: 'cold calls over 500 ms', value: cold.over500Ms },
    ...row('Redlock acquire → read → write → release', redlock),
    {
      metric: 'every call ran once (counters)',
      value: check.ok ? 'yes' : 'NO',
      target: 'yes',
      ok: check.ok,
    },
  ];
  return {
    fields,
    params: { ...p, targets: TARGETS },
    table,
    notes: [
      '',
      `${p.pods} processing pods + 1 producer-only driver; one call at a time; ` +
        `jobs per pod ${podJobs.join('/')}`,
    ],
  };
}

const latency: Scenario = {
  name: 'latency',
  description:
    'enqueueAndWait round trip, warm and cold entity, next to a Redlock critical section',
  options: OPTIONS,
  budgetSeconds: { full: 600, quick: 90 },
  run,
};
export default latency;
