import type { PodProgress } from './pod-protocol';
import { commandsPerUnit, type SnapshotDelta } from './redis-probe';
import { round } from './timing';

/** What a unit of work (a job, an operation, a deduction) cost, all processes together. */
export interface UnitCost {
  /**
   * CPU µs per unit: every process of the run (pods, drivers, from `process.cpuUsage()` since
   * `go`) plus redis-server's (`used_cpu_user + used_cpu_sys`, which Redis reads from /proc).
   */
  cpuUsPerUnit: number;
  /** Commands Redis ran per unit, by `INFO commandstats` `calls` (inside scripts included). */
  redisCallsPerUnit: number;
  /** The part of `cpuUsPerUnit` that redis-server spent. */
  redisCpuUsPerUnit: number;
}

type CpuReport = Pick<PodProgress, 'cpuUserMs' | 'cpuSystemMs'>;

function processMs(reports: readonly CpuReport[]): number {
  return reports.reduce((s, r) => s + r.cpuUserMs + r.cpuSystemMs, 0);
}

/** CPU µs per unit of some of a run's processes (from their reports), Redis left out. */
export function processCpuUsPerUnit(reports: readonly CpuReport[], units: number): number {
  return round((processMs(reports) * 1000) / Math.max(1, units), 1);
}

/** The cost per unit of a run, from its processes' reports and the Redis snapshots around it. */
export function unitCost(
  reports: readonly CpuReport[],
  redis: SnapshotDelta,
  units: number,
): UnitCost {
  const cpuMs = processMs(reports) + redis.cpuSeconds * 1000;
  return {
    cpuUsPerUnit: round((cpuMs * 1000) / Math.max(1, units), 1),
    redisCpuUsPerUnit: round((redis.cpuSeconds * 1e6) / Math.max(1, units), 1),
    redisCallsPerUnit: round(commandsPerUnit(redis, Math.max(1, units)), 2),
  };
}
