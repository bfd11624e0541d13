/** Turns the engine scenario's measurements into the flat JSON fields and the printed table. */
import { median, type Throughput } from '../../lib/measure';
import type { TableRow } from '../../lib/report';
import type { ScenarioResult } from '../../lib/scenario';
import { round } from '../../lib/timing';
import { TARGETS, type EngineParams } from './params';
import type { EngineRun, Entities10kResult } from './phases';

export interface EngineMeasurements {
  rawC1: Throughput[];
  rawC50: Throughput[];
  oneEntity: EngineRun[];
  entities1000: EngineRun[];
  entities10k?: Entities10kResult;
}

/** The round whose throughput is the median: its profile figures are the ones reported. */
function medianRun<T extends Throughput>(runs: T[]): T {
  const m = median(runs.map((r) => r.jobsPerSec));
  return runs.reduce((best, r) =>
    Math.abs(r.jobsPerSec - m) < Math.abs(best.jobsPerSec - m) ? r : best,
  );
}

function throughputFields(name: string, runs: Throughput[]): Record<string, unknown> {
  const m = medianRun(runs);
  const out: Record<string, unknown> = {
    [`${name}JobsPerSec`]: round(median(runs.map((r) => r.jobsPerSec))),
    [`${name}PodCpuPct`]: m.podCpuPct,
    [`${name}RedisCpuPct`]: m.redisCpuPct,
    [`${name}PodCpuUsPerJob`]: m.podCpuUsPerJob,
    [`${name}RedisCpuUsPerJob`]: m.redisCpuUsPerJob,
    [`${name}RedisCmdsPerJob`]: m.redisCmdsPerJob,
    [`${name}FirstJobMs`]: m.firstJobMs,
    [`${name}RedisUsedMemoryMb`]: m.redisUsedMemoryMb,
    [`${name}RedisKeys`]: m.redisKeys,
  };
  if (runs.length > 1) out[`${name}JobsPerSecRounds`] = runs.map((r) => r.jobsPerSec);
  return out;
}

const prefillRate = (run: EngineRun): number => round(run.prefill.jobs / (run.prefill.ms / 1000));

function entities10kFields(e: Entities10kResult, ownRedis: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    // On a Redis the run started itself, every connection but the bench's own is the pod's.
    maxConnectionsPerPod10k: ownRedis ? e.sampler.maxAll : e.sampler.maxNamed,
    maxNamedConnectionsPerPod10k: e.sampler.maxNamed,
    connectionNames10k: [...e.sampler.names].sort(),
    connectionSamples10k: e.sampler.samples,
    // The idle cost the target is about: once every released entity was tended at rest (a
    // one-time cost per release, reported beside it as ...AfterRelease).
    idleRedisCmdsPerSec10k: (e.settled ?? e.idle).cmdsPerSec,
    idleCommandsPerSec10k: (e.settled ?? e.idle).byCommandPerSec,
    idleRedisCpuPct10k: (e.settled ?? e.idle).redisCpuPct,
    idleRedisCmdsPerSec10kAfterRelease: e.idle.cmdsPerSec,
    idleCommandsPerSec10kAfterRelease: e.idle.byCommandPerSec,
    idleSweepIndexEntries10k: [e.indexBefore, e.indexAfter],
    entities10kJobsPerSec: e.throughput.jobsPerSec,
    entities10kRedisCmdsPerJob: e.throughput.redisCmdsPerJob,
    entities10kPrefillJobsPerSec: round(e.prefill.jobs / (e.prefill.ms / 1000)),
    entities10kReleaseSeconds: e.releaseSeconds,
    entities10kRedisUsedMemoryMb: e.throughput.redisUsedMemoryMb,
    entities10kRedisKeys: e.throughput.redisKeys,
    maxRssMbPod10k: e.maxRssMb,
  };
  if (e.settled) {
    out.idleRedisCmdsPerSec10kSettled = e.settled.cmdsPerSec;
    out.idleCommandsPerSec10kSettled = e.settled.byCommandPerSec;
    out.idleSettleWaitSeconds10k = e.settled.waitSeconds;
  }
  return out;
}

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const ratio = (a: unknown, b: unknown): number | null =>
  typeof a === 'number' && typeof b === 'number' && b > 0 ? round(a / b, 3) : null;
const atLeast = (v: number | null, min: number): boolean | null => (v === null ? null : v >= min);
const atMost = (v: number | null, max: number): boolean | null => (v === null ? null : v <= max);

export function engineReport(
  p: EngineParams,
  m: EngineMeasurements,
  ownRedis: boolean,
): ScenarioResult {
  const fields: Record<string, unknown> = {};
  const commandsPerJob: Record<string, Record<string, number>> = {};
  const redisUsecPerJob: Record<string, Record<string, number>> = {};
  const phases: [string, Throughput[]][] = [
    ['rawBullmqC1', m.rawC1],
    ['rawBullmqC50', m.rawC50],
    ['oneEntity', m.oneEntity],
    ['entities1000', m.entities1000],
  ];
  for (const [name, runs] of phases) {
    if (runs.length === 0) continue;
    Object.assign(fields, throughputFields(name, runs));
    commandsPerJob[name] = medianRun(runs).commandsPerJob;
    redisUsecPerJob[name] = medianRun(runs).usecPerJob;
  }
  if (m.oneEntity.length) fields.oneEntityPrefillJobsPerSec = prefillRate(medianRun(m.oneEntity));
  if (m.entities1000.length) {
    const mid = medianRun(m.entities1000);
    fields.entities1000Pods = p.entities1000Pods;
    fields.entities1000JobsPerPod = mid.jobsPerPod;
    fields.entities1000PrefillJobsPerSec = prefillRate(mid);
  }
  if (m.entities10k) {
    Object.assign(fields, entities10kFields(m.entities10k, ownRedis));
    commandsPerJob.entities10k = m.entities10k.throughput.commandsPerJob;
    redisUsecPerJob.entities10k = m.entities10k.throughput.usecPerJob;
  }

  const oneVs = ratio(fields.oneEntityJobsPerSec, fields.rawBullmqC1JobsPerSec);
  const manyVs = ratio(fields.entities1000JobsPerSec, fields.rawBullmqC50JobsPerSec);
  const maxConn = num(fields.maxConnectionsPerPod10k);
  const idle = num(fields.idleRedisCmdsPerSec10k);
  const targetsMet = {
    oneEntityVsRawC1: atLeast(oneVs, TARGETS.oneEntityVsRawC1),
    entities1000VsRawC50: atLeast(manyVs, TARGETS.entities1000VsRawC50),
    maxConnectionsPerPod10k: atMost(maxConn, TARGETS.maxConnectionsPerPod10k),
    idleRedisCmdsPerSec10k: atMost(idle, TARGETS.idleRedisCmdsPerSec10k),
  };
  // Rounds are interleaved, so a round's ratio compares runs taken under the same machine load.
  const roundRatios = (a: Throughput[], b: Throughput[]): number[] | undefined =>
    a.length > 1 && a.length === b.length
      ? a.map((x, i) => round(x.jobsPerSec / b[i].jobsPerSec, 3))
      : undefined;
  Object.assign(fields, {
    oneEntityVsRawC1Rounds: roundRatios(m.oneEntity, m.rawC1),
    entities1000VsRawC50Rounds: roundRatios(m.entities1000, m.rawC50),
    oneEntityVsRawC1: oneVs,
    entities1000VsRawC50: manyVs,
    targets: TARGETS,
    targetsMet,
    commandsPerJob,
    redisUsecPerJob,
  });

  const table: TableRow[] = [
    {
      metric: `raw BullMQ, concurrency 1 (${p.rawJobs} jobs)`,
      value: num(fields.rawBullmqC1JobsPerSec),
      unit: 'jobs/s',
    },
    {
      metric: 'raw BullMQ, concurrency 50',
      value: num(fields.rawBullmqC50JobsPerSec),
      unit: 'jobs/s',
    },
    {
      metric: `engine, 1 entity (${p.oneEntityJobs} jobs, 1 pod)`,
      value: num(fields.oneEntityJobsPerSec),
      unit: 'jobs/s',
    },
    {
      metric: '  vs raw concurrency 1',
      value: oneVs,
      unit: '×',
      target: `≥ ${TARGETS.oneEntityVsRawC1}`,
      ok: targetsMet.oneEntityVsRawC1,
    },
    {
      metric: `engine, ${p.entities1000Entities} entities × ${p.entities1000JobsPerEntity} (${p.entities1000Pods} pods)`,
      value: num(fields.entities1000JobsPerSec),
      unit: 'jobs/s',
    },
    {
      metric: '  vs raw concurrency 50',
      value: manyVs,
      unit: '×',
      target: `≥ ${TARGETS.entities1000VsRawC50}`,
      ok: targetsMet.entities1000VsRawC50,
    },
    {
      metric: `max connections, 1 pod, ${p.entities10kEntities} entities`,
      value: maxConn,
      target: `≤ ${TARGETS.maxConnectionsPerPod10k}`,
      ok: targetsMet.maxConnectionsPerPod10k,
    },
    {
      metric: `idle Redis commands/s, ${p.entities10kEntities} released entities`,
      value: idle,
      unit: 'cmds/s',
      target: `≤ ${TARGETS.idleRedisCmdsPerSec10k}`,
      ok: targetsMet.idleRedisCmdsPerSec10k,
    },
  ];
  if (fields.idleRedisCmdsPerSec10kSettled !== undefined)
    table.push({
      metric: '  right after the releases (each entity tended once at rest)',
      value: num(fields.idleRedisCmdsPerSec10kAfterRelease),
      unit: 'cmds/s',
    });

  const notes = [
    '',
    'where the time goes (median round; Redis commands include those run by scripts):',
  ];
  for (const [name, perJob] of Object.entries(commandsPerJob)) {
    const cpu =
      fields[`${name}PodCpuPct`] === undefined
        ? ''
        : ` pod CPU ${String(fields[`${name}PodCpuPct`])}%, Redis CPU ${String(fields[`${name}RedisCpuPct`])}%;`;
    const top = Object.entries(perJob)
      .slice(0, 8)
      .map(([c, v]) => `${c} ${v}`)
      .join(', ');
    notes.push(`  ${name}:${cpu} cmds/job: ${top}`);
  }
  return { fields, params: { ...p, targets: TARGETS }, table, notes };
}
