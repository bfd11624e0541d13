/**
 * `npm run bench -- memory`: what idle entities cost.
 *
 * - Redis memory per idle entity: `--entities` entities (default 20,000) get 1–2 small jobs
 *   each, a processing pod runs them, the entities go idle and are released, and the cron
 *   manager tends them at rest (rest-14.lua). Measured from Redis's `used_memory`: with the
 *   default retention (`removeOnComplete { age: 3600, count: 100 }`), once every entity has been
 *   tended, its finished jobs still inside their retention, for a small payload (a listpack
 *   hash per job) and again for a large one (a hash table per job); and with a retention of
 *   `shortAgeSeconds` (default count), once that age has passed and the entities are gone.
 * - A pod's memory after a flood: a fresh processing pod runs `--flood` entities (default
 *   100,000) of one job each; its RSS (after a full garbage collection) before, at its peak,
 *   once every entity is released, and once the cron manager has tended them all at rest.
 * - A pod's heap per held entity: a fresh processing pod runs `--held` entities (default
 *   10,000) of one job each, with an idle timeout longer than the run, so it holds them all,
 *   idle; its heap (after a full collection) then, less before, per entity.
 *
 * Each phase waits for a condition (bounded by the run's budget), never for a fixed time.
 */
import * as path from 'node:path';
import { AtomicEngine, type EntityTypeOptions } from '../../src';
import { seededRandom } from '../../support/random';
import type { PodProcess } from '../lib/pod-runner';
import type { TableRow } from '../lib/report';
import {
  positiveIntOption,
  type BenchContext,
  type Scenario,
  type ScenarioResult,
} from '../lib/scenario';
import { round, waitUntil } from '../lib/timing';
import type { MemoryPodConfig, MemoryPodDetails } from '../pods/memory-pod';

const POD_DIR = path.join(__dirname, '..', 'pods');
const TARGETS = Object.freeze({ bytesPerIdleEntity: 1024, rssGrowthMb: 50 });
const OPTIONS = {
  entities: 'N  entities of the Redis-memory phases (default 20,000; 2,000 with --quick)',
  flood: 'N     entities of the pod-RSS flood (default 100,000; 10,000 with --quick)',
  held: 'N      entities a pod holds for its heap per held entity (default 10,000; 1,000 with --quick)',
};
/**
 * Notes of the payloads: the small payload stays within Redis's default
 * `hash-max-listpack-value` (64 bytes), so a finished job's hash is a listpack; the large one
 * does not, so its hash is a hash table.
 */
const SMALL_NOTE = 40;
const LARGE_NOTE = 200;
/** Jobs per enqueueBulk call (one call to thousands of new entities nears enqueueTimeoutMs). */
const CHUNK = 1_000;

function memoryParams(ctx: BenchContext) {
  return {
    entities: positiveIntOption(ctx, 'entities', ctx.quick ? 2_000 : 20_000),
    jobsPerEntity: '1 or 2, drawn with seed 42',
    flood: positiveIntOption(ctx, 'flood', ctx.quick ? 10_000 : 100_000),
    held: positiveIntOption(ctx, 'held', ctx.quick ? 1_000 : 10_000),
    heldIdleTimeoutSeconds: 600,
    floodJobsPerEntity: 1,
    payload: '{ i, note: 40 × "x" } (50–61 bytes of JSON)',
    largePayload: '{ i, note: 200 × "x" } (210–221 bytes of JSON)',
    keyPrefix: 'mem',
    heartbeatTTL: 3,
    cronInterval: 200,
    idleTimeoutSeconds: 1,
    shortAgeSeconds: 5,
    defaultRetention:
      'removeOnComplete { age: 3600, count: 100 }, removeOnFail { age: 604800, count: 1000 }',
    podNodeFlags: '--expose-gc (memory read after a full collection)',
  };
}
type MemoryParams = ReturnType<typeof memoryParams>;

function entityTypes(p: MemoryParams): Record<string, EntityTypeOptions> {
  const idle = { idleTimeoutSeconds: p.idleTimeoutSeconds };
  return {
    kept: idle,
    large: idle,
    short: { ...idle, removeOnComplete: { age: p.shortAgeSeconds, count: 100 } },
    flood: idle,
    held: { idleTimeoutSeconds: p.heldIdleTimeoutSeconds },
  };
}

/** Everything the phases share. */
class Run {
  readonly rest: string;
  readonly index: string;
  private producer?: AtomicEngine;

  constructor(
    readonly ctx: BenchContext,
    readonly p: MemoryParams,
  ) {
    this.rest = `${p.keyPrefix}:{__aq}:rest`;
    this.index = `${p.keyPrefix}:{__aq}:index`;
  }

  async startProducer(): Promise<AtomicEngine> {
    this.producer = new AtomicEngine({
      redis: this.ctx.redisUrl,
      keyPrefix: this.p.keyPrefix,
      podId: 'producer',
      processing: false,
      // Thousands of new entities a second on a shared machine: confirmations can be slow.
      enqueueTimeoutMs: 60_000,
      entities: entityTypes(this.p),
    });
    this.producer.on('error', (err: Error, context: string) =>
      this.ctx.log(`producer error (${context}): ${err.message}`),
    );
    await this.producer.start();
    return this.producer;
  }

  async stopProducer(): Promise<void> {
    await this.producer?.stop();
  }

  async startPod(name: string, types: string[]): Promise<PodProcess> {
    const all = entityTypes(this.p);
    const config: MemoryPodConfig = {
      redisUrl: this.ctx.redisUrl,
      keyPrefix: this.p.keyPrefix,
      podId: name,
      heartbeatTTL: this.p.heartbeatTTL,
      cronInterval: this.p.cronInterval,
      entities: Object.fromEntries(types.map((t) => [t, all[t]])),
    };
    const pod = await this.ctx.pods.spawn(name, path.join(POD_DIR, 'memory-pod.js'), config, {
      execArgv: ['--expose-gc'],
    });
    const started = pod.next('started', 20_000);
    pod.send({ type: 'go' });
    await started;
    return pod;
  }

  /**
   * Enqueues `jobs[i]` jobs for entity `<type>-<i>`, in chunks; returns the number of jobs. The
   * payload is `{ i, note }` with a note of `noteLength` characters.
   */
  async enqueue(type: string, jobs: number[], noteLength = SMALL_NOTE): Promise<number> {
    const note = 'x'.repeat(noteLength);
    const items = jobs.flatMap((n, i) =>
      Array.from({ length: n }, () => ({
        type,
        entityId: `${type}-${i}`,
        name: 'touch',
        data: { i, note },
      })),
    );
    for (let at = 0; at < items.length; at += CHUNK)
      await this.producer!.enqueueBulk(items.slice(at, at + CHUNK));
    return items.length;
  }

  /** Waits until the pod has completed `total` jobs and holds no entity. */
  async drained(pod: PodProcess, total: number, onSample?: (rssMb: number) => void): Promise<void> {
    await waitUntil(
      async () => {
        if (pod.exited) throw new Error(`Pod ${pod.name} exited (code ${pod.exitCode})`);
        const progress = await pod.report();
        onSample?.(progress.rssMb);
        return progress.completed >= total && progress.activeEntities === 0;
      },
      {
        timeoutMs: this.ctx.deadline.remainingMs(),
        intervalMs: 250,
        message: `${total} jobs done and every entity released by ${pod.name}`,
        deadline: this.ctx.deadline,
      },
    );
  }

  /** Waits until the pod has completed `total` jobs and holds `entities` entities. */
  async holding(pod: PodProcess, total: number, entities: number): Promise<void> {
    await waitUntil(
      async () => {
        if (pod.exited) throw new Error(`Pod ${pod.name} exited (code ${pod.exitCode})`);
        const progress = await pod.report();
        return progress.completed >= total && progress.activeEntities === entities;
      },
      {
        timeoutMs: this.ctx.deadline.remainingMs(),
        intervalMs: 250,
        message: `${total} jobs done and ${entities} entities held by ${pod.name}`,
        deadline: this.ctx.deadline,
      },
    );
  }

  /** Waits until the rest set holds `members` entities and none is due within `withinMs`. */
  async tended(members: number, withinMs: number): Promise<void> {
    const redis = this.ctx.probe.client;
    await waitUntil(
      async () => {
        const [seconds, micros] = await redis.time();
        const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
        const [count, due, indexed] = await Promise.all([
          redis.zcard(this.rest),
          redis.zcount(this.rest, '-inf', now + withinMs),
          redis.zcard(this.index),
        ]);
        return count === members && due === 0 && indexed === 0;
      },
      {
        timeoutMs: this.ctx.deadline.remainingMs(),
        intervalMs: 250,
        message: `${members} entities tended at rest`,
        deadline: this.ctx.deadline,
      },
    );
  }

  async redisMemory(): Promise<{ usedMemory: number; keys: number }> {
    const s = await this.ctx.probe.snapshot();
    return { usedMemory: s.usedMemory, keys: s.keys };
  }
}

async function podMemory(pod: PodProcess): Promise<MemoryPodDetails> {
  const details = (await pod.report()).details as MemoryPodDetails;
  return {
    rssMb: round(details.rssMb, 1),
    heapUsedMb: round(details.heapUsedMb, 1),
    heapTotalMb: round(details.heapTotalMb, 1),
    externalMb: round(details.externalMb, 1),
  };
}

/**
 * Redis memory per idle entity: with the default retention, for a small and a large payload;
 * then with a short retention, once it has passed.
 */
async function redisPhase(run: Run) {
  const { ctx, p } = run;
  const random = seededRandom(42);
  const jobs = Array.from({ length: p.entities }, () => (random() < 0.5 ? 1 : 2));
  const pod = await run.startPod('mem-redis', ['kept', 'large', 'short']);
  const base = await run.redisMemory();

  ctx.deadline.phase = `memory: ${p.entities} entities, default retention`;
  const keptJobs = await run.enqueue('kept', jobs);
  await run.drained(pod, keptJobs);
  const released = await run.redisMemory();
  // Tended: the rest script ran on every entity and scheduled it for its jobs' expiry (an hour).
  await run.tended(p.entities, 600_000);
  const kept = await run.redisMemory();

  ctx.deadline.phase = `memory: ${p.entities} entities, default retention, large payload`;
  const largeJobs = await run.enqueue('large', jobs, LARGE_NOTE);
  await run.drained(pod, keptJobs + largeJobs);
  await run.tended(2 * p.entities, 600_000);
  const large = await run.redisMemory();

  ctx.deadline.phase = `memory: ${p.entities} entities, removeOnComplete.age ${p.shortAgeSeconds} s`;
  const shortJobs = await run.enqueue('short', jobs);
  await run.drained(pod, keptJobs + largeJobs + shortJobs);
  // Gone: the rest set holds the `kept` and `large` entities only.
  await run.tended(2 * p.entities, 600_000);
  const short = await run.redisMemory();
  await pod.stop();

  const per = (from: { usedMemory: number }, to: { usedMemory: number }): number =>
    round((to.usedMemory - from.usedMemory) / p.entities);
  const keys = (from: { keys: number }, to: { keys: number }): number =>
    round((to.keys - from.keys) / p.entities, 2);
  return {
    jobs: keptJobs,
    baseUsedMemory: base.usedMemory,
    bytesPerEntityReleased: per(base, released),
    bytesPerEntityRetained: per(base, kept),
    keysPerEntityRetained: keys(base, kept),
    bytesPerEntityRetainedLargePayload: per(kept, large),
    bytesPerEntityAfterRetention: per(large, short),
    keysPerEntityAfterRetention: keys(large, short),
  };
}

/** A fresh pod's memory before, during and after a flood of one-job entities. */
async function floodPhase(run: Run) {
  const { ctx, p } = run;
  // All types: offers of the earlier phases' entities may still sit in the spawn set.
  const pod = await run.startPod('mem-flood', ['kept', 'large', 'short', 'flood']);
  const before = await podMemory(pod);
  ctx.deadline.phase = `memory: flood of ${p.flood} entities`;
  let peakRssMb = before.rssMb;
  // Enqueued while the pod runs them: a failed enqueue fails the run at once (not unobserved).
  await Promise.all([
    run.enqueue(
      'flood',
      Array.from({ length: p.flood }, () => 1),
    ),
    run.drained(pod, p.flood, (rss) => (peakRssMb = Math.max(peakRssMb, rss))),
  ]);
  const released = await podMemory(pod);
  ctx.deadline.phase = `memory: flood of ${p.flood} entities, tended at rest`;
  // The Redis phase left its `kept` and `large` entities in the rest set too.
  await run.tended(2 * p.entities + p.flood, 600_000);
  const tended = await podMemory(pod);
  await pod.stop();
  return { before, peakRssMb: round(peakRssMb, 1), released, tended };
}

/** A fresh pod's heap per entity it holds: each ran one job and waits, idle, not released. */
async function heldPhase(run: Run) {
  const { ctx, p } = run;
  const pod = await run.startPod('mem-held', ['kept', 'large', 'short', 'flood', 'held']);
  const before = await podMemory(pod);
  ctx.deadline.phase = `memory: ${p.held} entities held`;
  await run.enqueue(
    'held',
    Array.from({ length: p.held }, () => 1),
  );
  await run.holding(pod, p.held, p.held);
  const holding = await podMemory(pod);
  await pod.stop();
  const heapBytesPerHeldEntity = Math.round(
    ((holding.heapUsedMb - before.heapUsedMb) * 2 ** 20) / p.held,
  );
  return { before, holding, heapBytesPerHeldEntity };
}

const scenario: Scenario = {
  name: 'memory',
  description:
    'Redis memory per idle entity (default and short retention); pod RSS after a flood; pod heap per held entity',
  options: OPTIONS,
  budgetSeconds: { full: 900, quick: 240 },
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const p = memoryParams(ctx);
    const run = new Run(ctx, p);
    await run.startProducer();
    try {
      const redis = await redisPhase(run);
      const flood = await floodPhase(run);
      const held = await heldPhase(run);
      const rssGrowthMb = round(flood.tended.rssMb - flood.before.rssMb, 1);
      const table: TableRow[] = [
        {
          metric: 'Redis bytes / entity, released',
          value: redis.bytesPerEntityReleased,
          unit: 'B',
        },
        {
          metric: 'Redis bytes / idle entity, jobs retained (default)',
          value: redis.bytesPerEntityRetained,
          unit: 'B',
          target: `< ${TARGETS.bytesPerIdleEntity}`,
          ok: redis.bytesPerEntityRetained < TARGETS.bytesPerIdleEntity,
        },
        {
          metric: `Redis bytes / idle entity, jobs retained, payload of ~${LARGE_NOTE} B`,
          value: redis.bytesPerEntityRetainedLargePayload,
          unit: 'B',
        },
        {
          metric: `Redis bytes / idle entity, after retention (${p.shortAgeSeconds} s)`,
          value: redis.bytesPerEntityAfterRetention,
          unit: 'B',
          target: `< ${TARGETS.bytesPerIdleEntity}`,
          ok: redis.bytesPerEntityAfterRetention < TARGETS.bytesPerIdleEntity,
        },
        { metric: 'pod RSS before the flood', value: flood.before.rssMb, unit: 'MiB' },
        { metric: `pod RSS peak (${p.flood} entities)`, value: flood.peakRssMb, unit: 'MiB' },
        { metric: 'pod RSS, every entity released', value: flood.released.rssMb, unit: 'MiB' },
        { metric: 'pod RSS, every entity tended at rest', value: flood.tended.rssMb, unit: 'MiB' },
        {
          metric: 'pod RSS growth after the flood',
          value: rssGrowthMb,
          unit: 'MiB',
          target: `< ${TARGETS.rssGrowthMb}`,
          ok: rssGrowthMb < TARGETS.rssGrowthMb,
        },
        {
          metric: `pod heap / held entity (${p.held} held, idle)`,
          value: held.heapBytesPerHeldEntity,
          unit: 'B',
        },
      ];
      return {
        fields: { targets: TARGETS, redis, flood: { ...flood, rssGrowthMb }, held },
        params: p,
        table,
      };
    } finally {
      await run.stopProducer();
    }
  },
};

export default scenario;
