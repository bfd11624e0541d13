/**
 * `npm run bench -- cluster`: the same steady workload on one redis-server and on a local
 * Redis Cluster of 3 masters (no replicas): throughput of each, how the entities spread over the
 * shards, and what share of the Redis commands goes to the one slot every pod shares (the slot of
 * the `{__aq}` hash tag: pod registry, spawn set, sweep index, rest set, ...).
 *
 * Workload: `--entities` entities (default 300), a producer-only engine in the bench process
 * enqueueing one no-op job per entity per wave (`enqueueBulk`) while the processing pods work,
 * keeping at most `backlogWaves` waves outstanding; `--pods` engine pods (default 2). After a
 * warm-up, a window of `windowSeconds` is measured: completions (the pods' `job:completed`) and
 * `INFO commandstats` of every master before and after. See bench/README.md for how the shared
 * slot's share is worked out.
 */
import * as path from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { AtomicEngine } from '../../src';
import { KeyBuilder } from '../../src/redis/keys';
import { startLocalRedisCluster, type LocalRedisCluster } from '../../scripts/local-redis';
import { sleep } from '../../support/async';
import { completedBy, type PodProcess } from '../lib/pod-runner';
import { diffSnapshots, RedisProbe, type SnapshotDelta } from '../lib/redis-probe';
import type { TableRow } from '../lib/report';
import {
  positiveIntOption,
  type BenchContext,
  type Scenario,
  type ScenarioResult,
} from '../lib/scenario';
import { round, waitUntil } from '../lib/timing';
import type { EnginePodConfig } from '../pods/engine-pod';

const ENGINE_POD = path.join(__dirname, '..', 'pods', 'engine-pod.js');
const TYPE = 'acct';
const TARGETS = Object.freeze({ sharedSlotCmdShare: 0.05, shardSpreadPct: 30 });
const OPTIONS = {
  entities: 'N  entities (default 300; 60 with --quick)',
  pods: 'N      processing pods (default 2)',
  rounds: 'N    single/cluster runs, interleaved; medians reported (default 3; 1 with --quick)',
};
/**
 * Commands that address no slot and are no work of the engine: the probe's INFO, and the
 * Cluster clients' topology reads (`CLUSTER SLOTS` on connect and on refresh).
 */
const NOT_SLOT_WORK = /^(info|client\|list|cluster\|.*|command\|.*)$/;

function clusterParams(ctx: BenchContext) {
  const q = ctx.quick;
  return {
    entities: positiveIntOption(ctx, 'entities', q ? 60 : 300),
    pods: positiveIntOption(ctx, 'pods', 2),
    rounds: positiveIntOption(ctx, 'rounds', q ? 1 : 3),
    masters: 3,
    replicas: 0,
    jobsPerEntityPerWave: 1,
    /** Waves enqueued but not yet completed, at most. */
    backlogWaves: 3,
    warmupSeconds: q ? 3 : 5,
    windowSeconds: q ? 5 : 15,
    heartbeatTTL: 3,
    idleTimeoutSeconds: 15,
    enqueueBulkChunk: 1_000,
    handler: 'no-op',
  };
}
type ClusterParams = ReturnType<typeof clusterParams>;

/** Where one run's Redis is: what the engines connect to, and the masters to measure. */
interface Target {
  label: 'single' | 'cluster';
  /** A client (or URL) for the producer engine in this process. */
  producerRedis(): string | Cluster;
  pod: Pick<EnginePodConfig, 'redisUrl' | 'clusterNodes'>;
  /** Measuring connections, keyed `host:port`. */
  masters: Map<string, RedisProbe>;
  /** `host:port` of the master serving `key`'s slot. */
  masterOf(key: string): Promise<string>;
}

interface RoundResult {
  opsPerSec: number;
  completed: number;
  seconds: number;
  /** Commands per master over the window (not-slot work left out). */
  cmdsByMaster: Record<string, number>;
  byCommandByMaster: Record<string, Record<string, number>>;
  entitiesPerShard: Record<string, number>;
  sharedMaster: string;
  sharedSlotCmds: number;
  sharedSlotCmdShare: number;
  /** Commands per entity per second on each master but the shared slot's: the noise floor. */
  otherMastersCmdsPerEntityPerSec: Record<string, number>;
}

function slotWork(d: SnapshotDelta): { total: number; byCommand: Record<string, number> } {
  let total = 0;
  const byCommand: Record<string, number> = {};
  for (const [name, { calls }] of Object.entries(d.byCommand)) {
    if (NOT_SLOT_WORK.test(name)) continue;
    total += calls;
    byCommand[name] = calls;
  }
  return { total, byCommand };
}

/** Keys matching `pattern` on one node (SCAN, never KEYS). */
async function countKeys(client: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 2000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}

/** Deletes every key under `prefix:` on one node, one key a command (a Cluster node refuses
 * a multi-key UNLINK across slots). */
async function cleanPrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 2000);
    cursor = next;
    const pipeline = client.pipeline();
    for (const key of keys) pipeline.unlink(key);
    await pipeline.exec();
  } while (cursor !== '0');
}

async function steadyRun(
  ctx: BenchContext,
  p: ClusterParams,
  target: Target,
  round_: number,
): Promise<RoundResult> {
  const keyPrefix = `bcl${target.label}r${round_}`;
  const keys = new KeyBuilder(keyPrefix);
  const ids = Array.from({ length: p.entities }, (_, i) => `a${i}`);
  ctx.deadline.phase = `${target.label}, round ${round_}: start`;
  const producerRedis = target.producerRedis();
  const producer = new AtomicEngine({
    redis: producerRedis,
    keyPrefix,
    podId: 'bench_producer',
    processing: false,
    enqueueTimeoutMs: 60_000,
    logger: false,
    entities: { [TYPE]: {} },
  });
  const errors: string[] = [];
  producer.on('error', (err: Error, context: string) => errors.push(`${context}: ${err.message}`));
  await producer.start();
  const pods: PodProcess[] = [];
  let feeding = true;
  let feeder: Promise<void> | undefined;
  try {
    for (let i = 0; i < p.pods; i++) {
      const config: EnginePodConfig = {
        ...target.pod,
        keyPrefix,
        podId: `p${i + 1}`,
        entityType: TYPE,
        idleTimeoutSeconds: p.idleTimeoutSeconds,
        heartbeatTTL: p.heartbeatTTL,
      };
      pods.push(await ctx.pods.spawn(`${target.label}-r${round_}-p${i + 1}`, ENGINE_POD, config));
    }
    await Promise.all(
      pods.map((pod) => {
        const started = pod.next('started', 30_000);
        pod.send({ type: 'go' });
        return started;
      }),
    );
    let enqueued = 0;
    feeder = (async () => {
      while (feeding) {
        if (enqueued - completedBy(pods) >= p.entities * p.backlogWaves) {
          await sleep(5);
          continue;
        }
        const wave = ids.map((entityId, k) => ({
          type: TYPE,
          entityId,
          name: 'noop',
          data: { i: enqueued + k },
        }));
        for (let at = 0; at < wave.length; at += p.enqueueBulkChunk)
          await producer.enqueueBulk(wave.slice(at, at + p.enqueueBulkChunk));
        enqueued += wave.length;
      }
    })();
    // A failing feeder ends the run at once instead of waiting for a stall.
    feeder.catch(() => undefined);

    ctx.deadline.phase = `${target.label}, round ${round_}: warm-up`;
    const warmEnd = Date.now() + p.warmupSeconds * 1000;
    await waitUntil(() => Date.now() >= warmEnd && completedBy(pods) >= p.entities * 2, {
      timeoutMs: 60_000,
      message: `two waves to complete (${target.label})`,
      deadline: ctx.deadline,
    });

    ctx.deadline.phase = `${target.label}, round ${round_}: window`;
    const masters = [...target.masters];
    const before = await Promise.all(masters.map(([, probe]) => probe.snapshot()));
    const c0 = completedBy(pods);
    const t0 = Date.now();
    // A measuring window of fixed length: it stands for no condition.
    await sleep(p.windowSeconds * 1000);
    const after = await Promise.all(masters.map(([, probe]) => probe.snapshot()));
    const c1 = completedBy(pods);
    const seconds = (Date.now() - t0) / 1000;
    if (c1 === c0) throw new Error(`No job completed in the ${target.label} window`);

    feeding = false;
    await feeder;
    if (errors.length > 0) throw new Error(`The producer reported: ${errors.join('; ')}`);

    const cmdsByMaster: Record<string, number> = {};
    const byCommandByMaster: Record<string, Record<string, number>> = {};
    masters.forEach(([id], i) => {
      const work = slotWork(diffSnapshots(before[i], after[i]));
      cmdsByMaster[id] = work.total;
      byCommandByMaster[id] = work.byCommand;
    });
    // Entities per shard: the fence keys (one per entity that ever held a lease) on each master.
    const entitiesPerShard: Record<string, number> = {};
    for (const [id, probe] of masters)
      entitiesPerShard[id] = await countKeys(probe.client, `${keyPrefix}:*:__aq:fence`);
    const sharedMaster = await target.masterOf(keys.podsKey());
    const share = sharedShare(cmdsByMaster, entitiesPerShard, sharedMaster, seconds);
    const opsPerSec = round((c1 - c0) / seconds);
    ctx.log(
      `${target.label} round ${round_}: ${opsPerSec} jobs/s, commands by master ` +
        `${JSON.stringify(cmdsByMaster)}, entities ${JSON.stringify(entitiesPerShard)}, ` +
        `shared slot on ${sharedMaster}: ${share.sharedSlotCmds} cmds (${share.sharedSlotCmdShare})`,
    );
    return {
      opsPerSec,
      completed: c1 - c0,
      seconds: round(seconds, 2),
      cmdsByMaster,
      byCommandByMaster,
      entitiesPerShard,
      sharedMaster,
      ...share,
    };
  } finally {
    feeding = false;
    await feeder?.catch(() => undefined);
    await Promise.all(pods.map((pod) => pod.stop()));
    await producer.stop();
    if (typeof producerRedis !== 'string') producerRedis.disconnect();
    for (const probe of target.masters.values()) await cleanPrefix(probe.client, keyPrefix);
  }
}

/**
 * The shared slot's commands, worked out from commands per master: the master serving the
 * shared slot serves entities too; its entity work is taken to be what the other masters do
 * per entity (same jobs per entity in every wave), times its entity count; the rest is the
 * shared slot's. On one Redis, every command counts and the share is left `null`.
 */
function sharedShare(
  cmdsByMaster: Record<string, number>,
  entitiesPerShard: Record<string, number>,
  sharedMaster: string,
  seconds: number,
) {
  const others = Object.keys(cmdsByMaster).filter((id) => id !== sharedMaster);
  const total = Object.values(cmdsByMaster).reduce((a, b) => a + b, 0);
  const otherMastersCmdsPerEntityPerSec: Record<string, number> = {};
  for (const id of others)
    otherMastersCmdsPerEntityPerSec[id] = round(
      cmdsByMaster[id] / Math.max(1, entitiesPerShard[id]) / seconds,
      2,
    );
  if (others.length === 0)
    return { sharedSlotCmds: 0, sharedSlotCmdShare: 0, otherMastersCmdsPerEntityPerSec };
  const otherCmds = others.reduce((s, id) => s + cmdsByMaster[id], 0);
  const otherEntities = others.reduce((s, id) => s + entitiesPerShard[id], 0);
  const entityWork = (otherCmds / Math.max(1, otherEntities)) * entitiesPerShard[sharedMaster];
  const sharedSlotCmds = Math.max(0, Math.round(cmdsByMaster[sharedMaster] - entityWork));
  return {
    sharedSlotCmds,
    sharedSlotCmdShare: round(sharedSlotCmds / Math.max(1, total), 4),
    otherMastersCmdsPerEntityPerSec,
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function singleTarget(ctx: BenchContext): Target {
  const url = new URL(ctx.redisUrl);
  const id = `${url.hostname}:${url.port}`;
  return {
    label: 'single',
    producerRedis: () => ctx.redisUrl,
    pod: { redisUrl: ctx.redisUrl },
    masters: new Map([[id, ctx.probe]]),
    masterOf: () => Promise.resolve(id),
  };
}

async function clusterTarget(cluster: LocalRedisCluster): Promise<Target> {
  const masters = new Map<string, RedisProbe>();
  for (const node of await cluster.listNodes())
    if (node.role === 'master')
      masters.set(
        `127.0.0.1:${node.port}`,
        await RedisProbe.connect(`redis://127.0.0.1:${node.port}`),
      );
  const nodes = cluster.nodes.map(({ host, port }) => ({ host, port }));
  const any = [...masters.values()][0].client;
  return {
    label: 'cluster',
    producerRedis: () => new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: null } }),
    pod: { redisUrl: '', clusterNodes: nodes },
    masters,
    async masterOf(key: string) {
      const slot = Number(await any.call('CLUSTER', 'KEYSLOT', key));
      const ranges = (await any.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`No master serves slot ${slot}`);
      return `127.0.0.1:${range[2][1]}`;
    },
  };
}

function spreadPct(perShard: Record<string, number>): number {
  const counts = Object.values(perShard);
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  return round((100 * Math.max(...counts.map((c) => Math.abs(c - mean)))) / mean, 1);
}

async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const p = clusterParams(ctx);
  ctx.deadline.phase = 'starting the cluster';
  const cluster = await startLocalRedisCluster({ masters: p.masters, replicasPerMaster: 0 });
  const single = singleTarget(ctx);
  let clustered: Target | undefined;
  try {
    clustered = await clusterTarget(cluster);
    ctx.log(`cluster masters: ${[...clustered.masters.keys()].join(', ')}`);
    const singles: RoundResult[] = [];
    const clusters: RoundResult[] = [];
    for (let r = 1; r <= p.rounds; r++) {
      singles.push(await steadyRun(ctx, p, single, r));
      clusters.push(await steadyRun(ctx, p, clustered, r));
    }
    const last = clusters[clusters.length - 1];
    const singleOpsPerSec = median(singles.map((s) => s.opsPerSec));
    const clusterOpsPerSec = median(clusters.map((s) => s.opsPerSec));
    // The worst round: the target must hold in each.
    const sharedSlotCmdShare = Math.max(...clusters.map((c) => c.sharedSlotCmdShare));
    const shardSpread = spreadPct(last.entitiesPerShard);
    const targetsMet = {
      sharedSlotCmdShare: sharedSlotCmdShare <= TARGETS.sharedSlotCmdShare,
      entitiesPerShard: shardSpread <= TARGETS.shardSpreadPct,
    };
    const table: TableRow[] = [
      { metric: 'singleOpsPerSec', value: singleOpsPerSec, unit: 'jobs/s' },
      { metric: 'clusterOpsPerSec', value: clusterOpsPerSec, unit: 'jobs/s' },
      ...Object.entries(last.entitiesPerShard).map(([id, n]) => ({
        metric: `entitiesPerShard ${id}`,
        value: n,
        unit: id === last.sharedMaster ? 'entities (shared slot here)' : 'entities',
      })),
      {
        metric: 'shard spread (max |n − mean| / mean)',
        value: shardSpread,
        unit: '%',
        target: `≤ ${TARGETS.shardSpreadPct}`,
        ok: targetsMet.entitiesPerShard,
      },
      {
        metric: 'sharedSlotCmdShare',
        value: sharedSlotCmdShare,
        target: `≤ ${TARGETS.sharedSlotCmdShare}`,
        ok: targetsMet.sharedSlotCmdShare,
      },
    ];
    return {
      fields: {
        singleOpsPerSec,
        clusterOpsPerSec,
        entitiesPerShard: last.entitiesPerShard,
        sharedSlotCmdShare,
        sharedSlotMaster: last.sharedMaster,
        shardSpreadPct: shardSpread,
        targets: TARGETS,
        targetsMet,
        singleOpsPerSecRounds: singles.map((s) => s.opsPerSec),
        clusterOpsPerSecRounds: clusters.map((s) => s.opsPerSec),
        sharedSlotCmdShareRounds: clusters.map((c) => c.sharedSlotCmdShare),
        singleCmdsPerJob: round(
          median(singles.map((s) => Object.values(s.cmdsByMaster)[0] / s.completed)),
          2,
        ),
        clusterCmdsPerJob: round(
          median(
            clusters.map(
              (c) => Object.values(c.cmdsByMaster).reduce((a, b) => a + b, 0) / c.completed,
            ),
          ),
          2,
        ),
        rounds: { single: singles, cluster: clusters },
      },
      params: p,
      table,
    };
  } finally {
    for (const probe of clustered?.masters.values() ?? []) await probe.close();
    await cluster.stop();
  }
}

const scenario: Scenario = {
  name: 'cluster',
  description:
    'the same steady workload on one Redis and on a 3-master Cluster: throughput, entities per shard, shared-slot command share',
  options: OPTIONS,
  budgetSeconds: { full: 600, quick: 180 },
  run,
};

export default scenario;
