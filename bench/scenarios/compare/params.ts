import type { BenchContext } from '../../lib/scenario';
import { APPROACHES, type Approach } from '../../pods/clients/op-client';

/** The figures the issue holds atomic-queues to (small E = 20, large E = 1,000). */
export const TARGETS = Object.freeze({
  /** large E: atomic-queues opsPerSec ≥ this × seed-baseline */
  vsSeedOpsLargeE: 2,
  /** large E: atomic-queues opsPerSec ≥ this × raw-bullmq (unordered) */
  vsRawBullmqLargeE: 1.3,
  /** large E: atomic-queues maxRedisConnections ≤ seed-baseline's / this */
  vsSeedConnectionsLargeE: 50,
  /** small E: atomic-queues opsPerSec ≥ this × redlock */
  vsRedlockSmallE: 5,
  /** small E: atomic-queues opsPerSec ≥ this × redlock-tuned */
  vsRedlockTunedSmallE: 2,
  /** both E: atomic-queues opsPerSec ≥ this × groupmq */
  vsGroupmq: 1,
  /** drift of atomic-queues, seed-baseline, redlock, redlock-tuned, groupmq */
  drift: 0,
});

/** Approaches whose drift must be 0 (all but raw BullMQ). */
export const EXCLUSIVE: readonly Approach[] = APPROACHES.filter((a) => a !== 'raw-bullmq');

export const OPTIONS = {
  only: `APPROACHES  comma-separated subset of ${APPROACHES.join(',')}`,
  entities: 'LIST    entity counts, comma-separated (default 20,1000; 20,50 with --quick)',
  waves: 'N          waves per run (default: enough for ≥ 20,000 operations, at least 2)',
  pods: 'N           worker pods of the queue-based approaches (default 2)',
};

function intList(raw: string, name: string): number[] {
  const out = raw.split(',').map((s) => Number(s.trim()));
  for (const n of out)
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`Expected \`--${name}\` to be integers ≥ 1, got \`${raw}\``);
  return out;
}

export function compareParams(ctx: BenchContext) {
  const q = ctx.quick;
  const only = ctx.options.get('only');
  const approaches = only ? only.split(',').map((s) => s.trim()) : [...APPROACHES];
  for (const a of approaches)
    if (!(APPROACHES as readonly string[]).includes(a))
      throw new Error(
        `Expected \`--only\` approaches among ${APPROACHES.join(', ')}, got \`${a}\``,
      );
  const entitiesRaw = ctx.options.get('entities');
  const entities = entitiesRaw ? intList(entitiesRaw, 'entities') : q ? [20, 50] : [20, 1_000];
  const wavesRaw = ctx.options.get('waves');
  const fixedWaves = wavesRaw ? intList(wavesRaw, 'waves')[0] : undefined;
  const podsRaw = ctx.options.get('pods');
  const pods = podsRaw ? intList(podsRaw, 'pods')[0] : 2;
  const opsPerWave = 50;
  const minOpsPerRun = q ? 1_000 : 20_000;
  const minWaves = q ? 1 : 2;
  const wavesFor = (e: number): number =>
    fixedWaves ?? Math.max(minWaves, Math.ceil(minOpsPerRun / (e * opsPerWave)));
  return {
    approaches: approaches as Approach[],
    entities,
    /** W: concurrent operations per entity in each wave. */
    opsPerWave,
    waves: Object.fromEntries(entities.map((e) => [e, wavesFor(e)])) as Record<number, number>,
    minOpsPerRun,
    warmupOpsPerEntity: 1,
    operation: 'GET counter → sleep(ioMs) → SET counter + 1, on the store connection',
    ioMs: 1,
    pods,
    driverProcesses: 1,
    entityType: 'e',
    engineHeartbeatTTL: 3,
    engineIdleTimeoutSeconds: 15,
    enqueueAndWaitTimeoutMs: 600_000,
    /**
     * The driver engine's `enqueueTimeoutMs` (default 5,000). A wave issues E × W enqueues at
     * once from one process; the other approaches' enqueues have no timeout at all.
     */
    engineEnqueueTimeoutMs: 120_000,
    seed: {
      stalledIntervalMs: 1_000,
      heartbeatMs: 1_500,
      claimTtlMs: 3_000,
      idleTimeoutSeconds: 15,
      aliveCacheMs: 1_500,
    },
    redlock: {
      package: 'redlock@5.0.0-beta.2 (the only line written for ioredis 5)',
      defaults: { retryCount: 10, retryDelay: 200, retryJitter: 100 },
      /** Retry delay 10 ms, jitter scaled like the defaults' (half the delay). */
      tuned: { retryDelay: 10, retryJitter: 5 },
      lockTtlMs: 10_000,
      onExecutionError: 'acquire again (counted in acquireFailures)',
    },
    groupmqConcurrency: Object.fromEntries(entities.map((e) => [e, Math.min(e, 200)])) as Record<
      number,
      number
    >,
    groupmqJobTimeoutMs: 30_000,
    rawBullmqConcurrency: 50,
    removeOnComplete: { count: 1_000 },
    /** Pause between the worker pods' start and the driver's: one engine heartbeat (1 s). */
    startSettleMs: 1_100,
    connectionSampleMs: 250,
    stallMs: 60_000,
  };
}
export type CompareParams = ReturnType<typeof compareParams>;
