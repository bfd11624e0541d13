/**
 * The measurements of the engine scenario. Each phase uses its own key prefix, starts and stops
 * its own pods, and deletes its keys at the end.
 */
import * as path from 'node:path';
import { KeyBuilder } from '../../../src/redis/keys';
import { ConnectionSampler } from '../../lib/connection-sampler';
import { measureThroughput, type Throughput } from '../../lib/measure';
import type { PodProcess } from '../../lib/pod-runner';
import { prefillBullmq, prefillEngine, type PrefillResult } from '../../lib/prefill';
import { diffSnapshots, perUnit } from '../../lib/redis-probe';
import type { BenchContext } from '../../lib/scenario';
import { sleep } from '../../../support/async';
import { round, waitUntil } from '../../lib/timing';
import type { BullmqPodConfig } from '../../pods/bullmq-pod';
import type { EnginePodConfig } from '../../pods/engine-pod';
import type { EngineParams } from './params';

const ENGINE_POD = path.join(__dirname, '..', '..', 'pods', 'engine-pod.js');
const BULLMQ_POD = path.join(__dirname, '..', '..', 'pods', 'bullmq-pod.js');

const entityIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `a${i}`);

function enginePodConfig(
  ctx: BenchContext,
  p: EngineParams,
  keyPrefix: string,
  podId: string,
  idleTimeoutSeconds: number,
): EnginePodConfig {
  return {
    redisUrl: ctx.redisUrl,
    keyPrefix,
    podId,
    entityType: p.entityType,
    idleTimeoutSeconds,
    heartbeatTTL: p.heartbeatTTL,
    metrics: p.metrics,
    batchSize: p.batchSize,
    events: p.events,
  };
}

async function stopAll(pods: PodProcess[]): Promise<void> {
  await Promise.all(pods.map((pod) => pod.stop()));
}

export async function rawBullmq(
  ctx: BenchContext,
  p: EngineParams,
  concurrency: number,
  r: number,
): Promise<Throughput> {
  const prefix = `braw${concurrency}r${r}`;
  ctx.deadline.phase = `raw BullMQ, concurrency ${concurrency}, round ${r}`;
  const fill = await prefillBullmq({
    redisUrl: ctx.redisUrl,
    prefix,
    queueName: 'raw',
    jobs: p.rawJobs,
    chunk: p.addBulkChunk,
    removeOnComplete: p.removeOnComplete,
  });
  const config: BullmqPodConfig = {
    redisUrl: ctx.redisUrl,
    prefix,
    queueName: 'raw',
    concurrency,
    removeOnComplete: p.removeOnComplete,
  };
  const pod = await ctx.pods.spawn(`rawC${concurrency}-r${r}`, BULLMQ_POD, config);
  try {
    const t = await measureThroughput(ctx.probe, [pod], p.rawJobs, ctx.deadline.limits(p.stallMs));
    ctx.log(
      `${ctx.deadline.phase}: ${t.jobsPerSec} jobs/s (prefill ${fill.ms} ms, first job after ` +
        `${t.firstJobMs} ms), ` +
        `pod CPU ${t.podCpuPct}%, Redis CPU ${t.redisCpuPct}%, ${t.redisCmdsPerJob} cmds/job`,
    );
    return t;
  } finally {
    await pod.stop();
    await ctx.probe.cleanPrefix(prefix);
  }
}

export interface EngineRun extends Throughput {
  prefill: PrefillResult;
  jobsPerPod: number[];
}

export async function engineThroughput(
  ctx: BenchContext,
  p: EngineParams,
  label: string,
  entities: number,
  jobsPerEntity: number,
  podCount: number,
  r: number,
): Promise<EngineRun> {
  const keyPrefix = `b${label}r${r}`;
  ctx.deadline.phase = `${label}: prefill, round ${r}`;
  const prefill = await prefillEngine({
    redisUrl: ctx.redisUrl,
    keyPrefix,
    entityType: p.entityType,
    entityIds: entityIds(entities),
    jobsPerEntity,
    chunk: p.enqueueBulkChunk,
  });
  ctx.deadline.phase = `${label}: processing, round ${r}`;
  const pods = await Promise.all(
    Array.from({ length: podCount }, (_, i) =>
      ctx.pods.spawn(
        `${label}-r${r}-p${i + 1}`,
        ENGINE_POD,
        enginePodConfig(ctx, p, keyPrefix, `p${i + 1}`, p.throughputIdleTimeoutSeconds),
      ),
    ),
  );
  try {
    const total = entities * jobsPerEntity;
    const t = await measureThroughput(ctx.probe, pods, total, ctx.deadline.limits(p.stallMs));
    const jobsPerPod = t.run.reports.map((x) => x.completed);
    ctx.log(
      `${ctx.deadline.phase}: ${t.jobsPerSec} jobs/s (prefill ${prefill.ms} ms, first job ` +
        `after ${t.firstJobMs} ms), pods ` +
        `${jobsPerPod.join('/')} jobs, pod CPU ${t.podCpuPct}%, Redis CPU ${t.redisCpuPct}%, ` +
        `${t.redisCmdsPerJob} cmds/job`,
    );
    return { ...t, prefill, jobsPerPod };
  } finally {
    await stopAll(pods);
    await ctx.probe.cleanPrefix(keyPrefix);
  }
}

/** Redis commands per second over `seconds` of quiet, the probe's own snapshot left out. */
async function idleWindow(ctx: BenchContext, seconds: number) {
  const a = await ctx.probe.snapshot();
  await sleep(seconds * 1000);
  const b = await ctx.probe.snapshot();
  const d = diffSnapshots(a, b);
  // `b` counts the INFO that produced `a` (a command is counted once it has run).
  const ownCommands = 1;
  return {
    cmdsPerSec: round((d.totalCommands - ownCommands) / d.seconds, 1),
    byCommandPerSec: perUnit(d, d.seconds, 1),
    redisCpuPct: round((100 * d.cpuSeconds) / d.seconds, 2),
  };
}

export async function entities10k(ctx: BenchContext, p: EngineParams) {
  const keyPrefix = 'b10k';
  const podId = 'p1';
  const indexKey = new KeyBuilder(keyPrefix).indexKey();
  ctx.deadline.phase = 'entities10k: prefill';
  const prefill = await prefillEngine({
    redisUrl: ctx.redisUrl,
    keyPrefix,
    entityType: p.entityType,
    entityIds: entityIds(p.entities10kEntities),
    jobsPerEntity: p.entities10kJobsPerEntity,
    chunk: p.enqueueBulkChunk,
  });
  ctx.deadline.phase = 'entities10k: processing';
  const pod = await ctx.pods.spawn(
    'entities10k-p1',
    ENGINE_POD,
    enginePodConfig(ctx, p, keyPrefix, podId, p.entities10kIdleTimeoutSeconds),
  );
  const sampler = new ConnectionSampler(ctx.probe, `${keyPrefix}:aq:${podId}:`);
  const tick = (): Promise<void> => sampler.sampleEvery(p.connectionSampleMs);
  try {
    const total = p.entities10kEntities * p.entities10kJobsPerEntity;
    const t = await measureThroughput(ctx.probe, [pod], total, {
      ...ctx.deadline.limits(p.stallMs),
      onTick: tick,
    });
    ctx.log(`entities10k: ${t.jobsPerSec} jobs/s, waiting for every entity to be released`);
    ctx.deadline.phase = 'entities10k: waiting for the entities to be released';
    const doneAt = Date.now();
    await waitUntil(
      async () => {
        await tick();
        return pod.latest?.activeEntities === 0;
      },
      {
        timeoutMs: p.entities10kIdleTimeoutSeconds * 1000 + 60_000,
        intervalMs: 20,
        message: `pod ${podId} to release all ${p.entities10kEntities} entities`,
        deadline: ctx.deadline,
      },
    );
    const releaseSeconds = round((Date.now() - doneAt) / 1000, 1);
    await sampler.sample();
    const indexBefore = await ctx.probe.zcard(indexKey);
    ctx.deadline.phase = 'entities10k: idle window';
    const idle = await idleWindow(ctx, p.idleWindowSeconds);
    const indexAfter = await ctx.probe.zcard(indexKey);
    ctx.log(
      `entities10k idle: ${idle.cmdsPerSec} cmds/s; sweep index ${indexBefore} → ${indexAfter} entries`,
    );
    let settled: (Awaited<ReturnType<typeof idleWindow>> & { waitSeconds: number }) | undefined;
    if (p.settledIdleWindow) {
      ctx.deadline.phase = 'entities10k: waiting for the sweep index to empty';
      const from = Date.now();
      // And the rest set: each released entity is tended once at rest (retention, clean-up of
      // what only a live queue needs), a one-time cost per release, not an idle one. Then it
      // stays there until its finished jobs' age passes (an hour by default): wait until no
      // entry is due before the settled window ends.
      const restKey = new KeyBuilder(keyPrefix).restKey();
      const windowMs = p.idleWindowSeconds * 1000;
      await waitUntil(
        async () =>
          (await ctx.probe.zcard(indexKey)) === 0 &&
          (await ctx.probe.zcountDueWithin(restKey, windowMs + 1000)) === 0,
        {
          timeoutMs: p.settleTimeoutSeconds * 1000,
          intervalMs: 1000,
          message: `the sweep index ${indexKey} to empty and every entity at rest to be tended`,
          deadline: ctx.deadline,
        },
      );
      const waitSeconds = round((Date.now() - from) / 1000, 1);
      ctx.deadline.phase = 'entities10k: settled idle window';
      settled = { ...(await idleWindow(ctx, p.idleWindowSeconds)), waitSeconds };
      ctx.log(`entities10k settled idle: ${settled.cmdsPerSec} cmds/s after ${waitSeconds} s`);
    }
    await sampler.sample();
    const report = await pod.report();
    return {
      throughput: t,
      prefill,
      releaseSeconds,
      sampler,
      indexBefore,
      indexAfter,
      idle,
      settled,
      maxRssMb: round(report.maxRssMb),
    };
  } finally {
    await pod.stop();
    await ctx.probe.cleanPrefix(keyPrefix);
  }
}

export type Entities10kResult = Awaited<ReturnType<typeof entities10k>>;
