/**
 * One measurement of the compare scenario: one approach at one entity count, with its own key
 * prefix, worker pods and driver, all stopped and their keys deleted at the end.
 */
import * as path from 'node:path';
import { ConnectionSampler } from '../../lib/connection-sampler';
import { unitCost } from '../../lib/cost';
import { counterDrift } from '../../lib/counter';
import type { PodProcess } from '../../lib/pod-runner';
import { runUntilCompleted } from '../../lib/pod-runner';
import { commandsPerUnit, diffSnapshots } from '../../lib/redis-probe';
import type { BenchContext } from '../../lib/scenario';
import { sleep } from '../../../support/async';
import { round, waitUntil } from '../../lib/timing';
import type { AqCounterPodConfig } from '../../pods/aq-counter-pod';
import type { BullmqCounterPodConfig } from '../../pods/bullmq-counter-pod';
import type { Approach, ClientConfig } from '../../pods/clients/op-client';
import type { GroupmqCounterPodConfig } from '../../pods/groupmq-counter-pod';
import type { SeedCounterPodConfig } from '../../pods/seed-counter-pod';
import type { WaveDriverConfig, WaveDriverDetails } from '../../pods/wave-driver-pod';
import type { CompareParams } from './params';

const POD_DIR = path.join(__dirname, '..', '..', 'pods');
const pod = (file: string): string => path.join(POD_DIR, file);

/** One element of the JSON `results` (the first eight fields are the contract). */
export interface CompareResult {
  approach: Approach;
  entities: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  drift: number;
  maxRedisConnections: number;
  rssMB: number;
  ops: number;
  waves: number;
  p90Ms: number;
  maxMs: number;
  entitiesWithDrift: number;
  failedOps: number;
  processes: number;
  workerPods: number;
  podCpuPct: number;
  redisCpuPct: number;
  redisCmdsPerOp: number;
  /** CPU µs per operation, every process of the run and Redis together (see bench/lib/cost.ts). */
  cpuUsPerOp: number;
  /** Commands Redis ran per operation (commandstats `calls`, inside scripts included). */
  redisCallsPerOp: number;
  warmupMs: number;
  waveMs: number[];
  client: Record<string, number>;
  pods: unknown[];
}

export const entityIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `c${i}`);

/** The worker pods of an approach (none for Redlock: its callers do the work). */
function workerPods(
  ctx: BenchContext,
  p: CompareParams,
  approach: Approach,
  prefix: string,
  entities: number,
): { script: string; configs: unknown[] } | undefined {
  const ids = Array.from({ length: p.pods }, (_, i) => `p${i + 1}`);
  const base = { redisUrl: ctx.redisUrl, ioMs: p.ioMs };
  switch (approach) {
    case 'atomic-queues':
      return {
        script: pod('aq-counter-pod.js'),
        configs: ids.map((podId): AqCounterPodConfig => ({
          ...base,
          keyPrefix: prefix,
          podId,
          entityType: p.entityType,
          idleTimeoutSeconds: p.engineIdleTimeoutSeconds,
          heartbeatTTL: p.engineHeartbeatTTL,
        })),
      };
    case 'seed-baseline':
      return {
        script: pod('seed-counter-pod.js'),
        configs: ids.map((podId): SeedCounterPodConfig => ({
          ...base,
          prefix,
          podId,
          idleTimeoutSeconds: p.seed.idleTimeoutSeconds,
          heartbeatMs: p.seed.heartbeatMs,
          claimTtlMs: p.seed.claimTtlMs,
          stalledIntervalMs: p.seed.stalledIntervalMs,
        })),
      };
    case 'groupmq':
      return {
        script: pod('groupmq-counter-pod.js'),
        configs: ids.map((podId): GroupmqCounterPodConfig => ({
          ...base,
          prefix,
          namespace: prefix,
          podId,
          concurrency: p.groupmqConcurrency[entities],
          jobTimeoutMs: p.groupmqJobTimeoutMs,
        })),
      };
    case 'raw-bullmq':
      return {
        script: pod('bullmq-counter-pod.js'),
        configs: ids.map((podId): BullmqCounterPodConfig => ({
          ...base,
          prefix,
          queueName: 'raw',
          podId,
          concurrency: p.rawBullmqConcurrency,
        })),
      };
    case 'redlock':
    case 'redlock-tuned':
      return undefined;
  }
}

function driverConfig(
  ctx: BenchContext,
  p: CompareParams,
  approach: Approach,
  prefix: string,
  entities: number,
): WaveDriverConfig {
  const client: ClientConfig = {
    approach,
    redisUrl: ctx.redisUrl,
    prefix,
    entityType: p.entityType,
    waitTimeoutMs: p.enqueueAndWaitTimeoutMs,
    enqueueTimeoutMs: p.engineEnqueueTimeoutMs,
    namespace: prefix,
    jobTimeoutMs: p.groupmqJobTimeoutMs,
    queueName: 'raw',
    removeOnComplete: p.removeOnComplete,
    lockTtlMs: p.redlock.lockTtlMs,
    redlock: approach === 'redlock-tuned' ? p.redlock.tuned : {},
    ioMs: p.ioMs,
    aliveCacheMs: p.seed.aliveCacheMs,
  };
  return {
    ...client,
    podId: 'driver',
    entityIds: entityIds(entities),
    opsPerWave: p.opsPerWave,
    waves: p.waves[entities],
    warmupOpsPerEntity: p.warmupOpsPerEntity,
  };
}

/** Connections other than the bench's own: none should be left from the previous run. */
async function waitForNoClients(ctx: BenchContext): Promise<void> {
  const sampler = new ConnectionSampler(ctx.probe, '');
  await waitUntil(
    async () => {
      sampler.maxAll = 0;
      await sampler.sample();
      return sampler.maxAll === 0;
    },
    { timeoutMs: 10_000, intervalMs: 100, message: 'the previous run’s connections to close' },
  ).catch((err: unknown) => ctx.log(`warning: ${(err as Error).message}`));
}

export async function runApproach(
  ctx: BenchContext,
  p: CompareParams,
  approach: Approach,
  entities: number,
): Promise<CompareResult> {
  const prefix = `cmp_${approach.replace(/-/g, '_')}_${entities}`;
  const label = `${approach}, ${entities} entities`;
  const waves = p.waves[entities];
  const ops = entities * p.opsPerWave * waves;
  await ctx.probe.cleanPrefix(prefix);
  await waitForNoClients(ctx);
  ctx.deadline.phase = `${label}: starting processes`;
  const spec = workerPods(ctx, p, approach, prefix, entities);
  const pods: PodProcess[] = [];
  let driver: PodProcess | undefined;
  try {
    // Loaded in parallel (Node start-up dominates a quick run); `pods` keeps the spawn order.
    const spawning = (spec?.configs ?? []).map((config, i) =>
      ctx.pods.spawn(`${approach}-${entities}-p${i + 1}`, spec!.script, config),
    );
    const driving = ctx.pods.spawn(
      `${approach}-${entities}-driver`,
      pod('wave-driver-pod.js'),
      driverConfig(ctx, p, approach, prefix, entities),
    );
    const spawned = await Promise.allSettled([...spawning, driving]);
    for (const r of spawned) if (r.status === 'fulfilled') pods.push(r.value);
    const failed = spawned.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason as Error;
    driver = pods.pop()!;
    const sampler = new ConnectionSampler(ctx.probe, prefix);
    const before = await ctx.probe.snapshot();
    // Workers first, each fully started (the engine's pods registered), then the driver.
    const started = pods.map((w) => w.next('started', 20_000));
    for (const w of pods) w.send({ type: 'go' });
    await Promise.all(started);
    // One engine heartbeat, so every pod's registry view (fair share) includes the others.
    if (approach === 'atomic-queues') await sleep(p.startSettleMs);
    ctx.deadline.phase = `${label}: ${waves} waves of ${p.opsPerWave} operations per entity`;
    const run = await runUntilCompleted([driver], ops, {
      stallMs: p.stallMs,
      deadline: ctx.deadline,
      onTick: async () => {
        const dead = pods.find((w) => w.exited);
        if (dead) throw new Error(`Pod ${dead.name} exited (code ${dead.exitCode})`);
        await sampler.sampleEvery(p.connectionSampleMs);
      },
    });
    await sampler.sample();
    const after = await ctx.probe.snapshot();
    let details = run.reports[0].details as WaveDriverDetails;
    if (details.phase !== 'done')
      details = await driver.finalDetails<WaveDriverDetails>(label, (d) => d.phase === 'done');
    const podReports = await Promise.all(pods.map((w) => w.report()));
    const all = [...run.reports, ...podReports];
    const delta = diffSnapshots(before, after);
    const windowMs = Math.max(1, delta.seconds * 1000);
    const cpuMs = all.reduce((s, r) => s + r.cpuUserMs + r.cpuSystemMs, 0);
    const totalOps = ops + entities * p.warmupOpsPerEntity;
    const { drift, entitiesWithDrift } = await counterDrift(
      ctx.probe.client,
      prefix,
      entityIds(entities),
      p.warmupOpsPerEntity + p.opsPerWave * waves,
    );
    const lat = details.latency!;
    const cost = unitCost(all, delta, totalOps);
    const result: CompareResult = {
      approach,
      entities,
      opsPerSec: round(details.measuredOps / (details.measuredMs / 1000)),
      p50Ms: lat.p50Ms,
      p99Ms: lat.p99Ms,
      drift,
      maxRedisConnections: sampler.maxAll,
      rssMB: round(all.reduce((s, r) => s + r.maxRssMb, 0)),
      ops,
      waves,
      p90Ms: lat.p90Ms,
      maxMs: lat.maxMs,
      entitiesWithDrift,
      failedOps: details.failedOps,
      processes: all.length,
      workerPods: pods.length,
      podCpuPct: round((100 * cpuMs) / windowMs, 1),
      redisCpuPct: round((100 * delta.cpuSeconds * 1000) / windowMs, 1),
      redisCmdsPerOp: round(commandsPerUnit(delta, totalOps), 2),
      cpuUsPerOp: cost.cpuUsPerUnit,
      redisCallsPerOp: cost.redisCallsPerUnit,
      warmupMs: round(details.warmupMs),
      waveMs: details.waveMs,
      client: details.client,
      pods: podReports.map((r) => ({ completed: r.completed, ...(r.details ?? {}) })),
    };
    ctx.log(
      `${label}: ${result.opsPerSec} ops/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ` +
        `drift ${drift}, ${result.maxRedisConnections} connections, ${result.rssMB} MB, ` +
        `${result.redisCmdsPerOp} cmds/op, ${result.cpuUsPerOp} CPU µs/op, jobs per pod ${podReports.map((r) => r.completed).join('/') || '-'}`,
    );
    return result;
  } finally {
    ctx.deadline.phase = `${label}: stopping`;
    await driver?.stop();
    await Promise.all(pods.map((w) => w.stop()));
    await ctx.probe.cleanPrefix(prefix);
    if (approach === 'groupmq') await ctx.probe.cleanPrefix(`groupmq:${prefix}`);
  }
}
