/**
 * The driver of `npm run bench -- compare`: on `go`, builds the client of its approach, runs one
 * untimed warm-up operation per entity, then `waves` waves of `opsPerWave` concurrent operations
 * per entity, each wave once the previous one has completed. Each operation's latency runs from
 * the call to its completion as the client sees it. Reports through `details`.
 */
import { performance } from 'node:perf_hooks';
import { summarize, type LatencySummary } from '../lib/percentiles';
import { reportError, runPod } from '../lib/pod-child';
import { createClient } from './clients';
import type { ClientConfig, OpClient } from './clients/op-client';

export interface WaveDriverConfig extends ClientConfig {
  podId: string;
  entityIds: string[];
  opsPerWave: number;
  waves: number;
  warmupOpsPerEntity: number;
}

export interface WaveDriverDetails {
  phase: 'starting' | 'warm-up' | 'waves' | 'done';
  wave: number;
  measuredOps: number;
  /** From the first wave's start to the last completion, ms. */
  measuredMs: number;
  warmupMs: number;
  waveMs: number[];
  latency?: LatencySummary;
  failedOps: number;
  client: Record<string, number>;
}

runPod<WaveDriverConfig>((config, counter, errors) => {
  let client: OpClient | undefined;
  const latencies = new Float64Array(config.entityIds.length * config.opsPerWave * config.waves);
  let n = 0;
  const details: WaveDriverDetails = {
    phase: 'starting',
    wave: 0,
    measuredOps: 0,
    measuredMs: 0,
    warmupMs: 0,
    waveMs: [],
    failedOps: 0,
    client: {},
  };

  const timed = async (c: OpClient, entityId: string, op: string): Promise<void> => {
    const t0 = performance.now();
    try {
      await c.run(entityId, op);
      latencies[n++] = performance.now() - t0;
    } catch (err) {
      details.failedOps += 1;
      reportError(errors, err, `operation ${op}`);
    }
    counter.completed();
  };

  const run = async (): Promise<void> => {
    const c = await createClient(config, config.podId);
    client = c;
    details.phase = 'warm-up';
    const w0 = performance.now();
    for (let k = 0; k < config.warmupOpsPerEntity; k++)
      await Promise.all(config.entityIds.map((e) => c.run(e, `w${k}.${e}`)));
    details.warmupMs = performance.now() - w0;
    details.phase = 'waves';
    const start = performance.now();
    for (let wave = 1; wave <= config.waves; wave++) {
      details.wave = wave;
      const waveStart = performance.now();
      const ops: Promise<void>[] = [];
      for (const e of config.entityIds)
        for (let k = 0; k < config.opsPerWave; k++) ops.push(timed(c, e, `${wave}.${e}.${k}`));
      await Promise.all(ops);
      details.waveMs.push(Math.round(performance.now() - waveStart));
    }
    details.measuredMs = performance.now() - start;
    details.measuredOps = n;
    details.latency = summarize(latencies.subarray(0, n));
    details.phase = 'done';
  };

  return {
    // Not awaited by the pod runner beyond start-up errors: the parent follows `completed`.
    start: () => {
      run().catch((err: unknown) => {
        reportError(errors, err, `driving ${config.approach}`);
        // Let the error reach the parent, then exit: the parent fails at once, not on a stall.
        setTimeout(() => process.exit(1), 200);
      });
      return Promise.resolve();
    },
    stop: async () => {
      await client?.close();
    },
    details: () => ({ ...details, client: client?.stats() ?? {} }),
  };
});
