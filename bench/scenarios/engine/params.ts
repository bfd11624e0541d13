import * as os from 'node:os';
import { positiveIntOption, type BenchContext } from '../../lib/scenario';

export const PHASES = ['raw', 'oneEntity', 'entities1000', 'entities10k'] as const;
export type Phase = (typeof PHASES)[number];

/** The figures the engine is held to. */
export const TARGETS = Object.freeze({
  /** oneEntityJobsPerSec ≥ this × rawBullmqC1JobsPerSec (the throughput issue's target) */
  oneEntityVsRawC1: 4,
  /** entities1000JobsPerSec ≥ this × rawBullmqC50JobsPerSec (the throughput issue's target) */
  entities1000VsRawC50: 3,
  /** maxConnectionsPerPod10k ≤ this */
  maxConnectionsPerPod10k: 10,
  /** idleRedisCmdsPerSec10k ≤ this */
  idleRedisCmdsPerSec10k: 50,
});

export const OPTIONS = {
  only: `PHASES  comma-separated subset of ${PHASES.join(',')}`,
  rounds:
    'N       repetitions of the throughput phases, median reported (default 3; 1 with --quick)',
  pods: 'N         engine pods of the entities1000 phase (default: one per core)',
  metrics:
    '        engine pods keep the prom-client metrics (`metrics` option), to measure their cost',
  'batch-size': "N  the entity type's `batchSize` (default: the engine's default)",
  events: "on|off  the entity type's `events` (default: the engine's default)",
};

/** Every parameter of the scenario; all of it goes into the JSON `params`. */
export function engineParams(ctx: BenchContext) {
  const q = ctx.quick;
  const only = ctx.options.get('only');
  const phases = only ? only.split(',').map((s) => s.trim()) : [...PHASES];
  for (const p of phases)
    if (!(PHASES as readonly string[]).includes(p))
      throw new Error(`Expected \`--only\` phases among ${PHASES.join(', ')}, got \`${p}\``);
  const metrics = ctx.options.get('metrics');
  if (metrics !== undefined && metrics !== 'true' && metrics !== 'false')
    throw new Error(
      `Expected \`--metrics\` to be a bare flag (or true / false), got \`${metrics}\``,
    );
  const events = ctx.options.get('events');
  if (events !== undefined && events !== 'on' && events !== 'off')
    throw new Error(`Expected \`--events\` to be on or off, got \`${events}\``);
  return {
    phases: phases as Phase[],
    /** The entity type's `batchSize` and `events`; undefined: the engine's defaults. */
    batchSize: ctx.options.has('batch-size') ? positiveIntOption(ctx, 'batch-size', 1) : undefined,
    events: events === undefined ? undefined : events === 'on',
    /** Engine pods run with the `metrics` option (a prom-client Registry of their own). */
    metrics: metrics === 'true',
    rounds: positiveIntOption(ctx, 'rounds', q ? 1 : 3),
    rawJobs: q ? 2_000 : 20_000,
    rawConcurrency: [1, 50] as const,
    addBulkChunk: 1_000,
    oneEntityJobs: q ? 2_000 : 20_000,
    entities1000Entities: q ? 100 : 1_000,
    entities1000JobsPerEntity: q ? 10 : 20,
    entities1000Pods: positiveIntOption(ctx, 'pods', os.availableParallelism()),
    entities10kEntities: q ? 1_000 : 10_000,
    entities10kJobsPerEntity: 1,
    enqueueBulkChunk: 2_000,
    removeOnComplete: { count: 1_000 },
    heartbeatTTL: 3,
    throughputIdleTimeoutSeconds: 15,
    entities10kIdleTimeoutSeconds: 1,
    idleWindowSeconds: q ? 3 : 10,
    /**
     * After the first idle window, measure a second one once the sweep index has emptied and
     * every released entity was tended at rest (the idle target is about that one).
     */
    settledIdleWindow: true,
    settleTimeoutSeconds: 180,
    connectionSampleMs: 100,
    stallMs: 30_000,
    entityType: 'e',
    payload: '{ i: <job number> }',
  };
}
export type EngineParams = ReturnType<typeof engineParams>;
