import { runUntilCompleted, type PodProcess, type RunResult } from './pod-runner';
import {
  commandsPerUnit,
  diffSnapshots,
  perUnit,
  usecPerUnit,
  type RedisProbe,
  type SnapshotDelta,
} from './redis-probe';
import { round, type Deadline } from './timing';

/** Throughput of one timed run, and where the time went. */
export interface Throughput {
  jobs: number;
  jobsPerSec: number;
  elapsedMs: number;
  /** From `go` to the first completion, ms. */
  firstJobMs: number;
  /** Pod CPU over the run, summed over pods, in % of one core. */
  podCpuPct: number;
  podCpuUsPerJob: number;
  redisCpuPct: number;
  redisCpuUsPerJob: number;
  /** Redis commands per job, script-internal ones included (INFO commandstats). */
  redisCmdsPerJob: number;
  /** The same by command, largest first. */
  commandsPerJob: Record<string, number>;
  /** Redis time per job by command, µs (`INFO commandstats` usec; scripts include their commands). */
  usecPerJob: Record<string, number>;
  maxRssMb: number;
  /** Redis `used_memory` and key count once the jobs are done (completed jobs kept included). */
  redisUsedMemoryMb: number;
  redisKeys: number;
  run: RunResult;
  delta: SnapshotDelta;
}

/**
 * Times `pods` until they have completed `total` jobs, with Redis counters read just before
 * `go` and just after the last completion was reported.
 */
export async function measureThroughput(
  probe: RedisProbe,
  pods: PodProcess[],
  total: number,
  opts: { stallMs: number; deadline: Deadline; onTick?: () => Promise<void> },
): Promise<Throughput> {
  const before = await probe.snapshot();
  const run = await runUntilCompleted(pods, total, opts);
  const after = await probe.snapshot();
  const delta = diffSnapshots(before, after);
  const windowMs = Math.max(1, delta.seconds * 1000);
  return {
    jobs: run.completed,
    jobsPerSec: round(run.completed / (run.elapsedMs / 1000)),
    elapsedMs: round(run.elapsedMs),
    firstJobMs: round(run.firstJobMs, 1),
    podCpuPct: round((100 * run.podCpuMs) / windowMs, 1),
    podCpuUsPerJob: round((1000 * run.podCpuMs) / run.completed, 1),
    redisCpuPct: round((100 * delta.cpuSeconds * 1000) / windowMs, 1),
    redisCpuUsPerJob: round((1e6 * delta.cpuSeconds) / run.completed, 1),
    redisCmdsPerJob: round(commandsPerUnit(delta, run.completed), 2),
    commandsPerJob: perUnit(delta, run.completed),
    usecPerJob: usecPerUnit(delta, run.completed),
    maxRssMb: round(run.maxRssMb),
    redisUsedMemoryMb: round(after.usedMemory / 2 ** 20, 1),
    redisKeys: after.keys,
    run,
    delta,
  };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
