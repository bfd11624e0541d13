/**
 * A processing pod of the engine benchmarks: one AtomicEngine with a no-op handler, counting
 * completions with the engine's own `job:completed` event. Started by bench/lib/pod-runner.ts.
 * With `metrics`, the engine keeps its prom-client metrics too (in a Registry of its own), so
 * that their cost can be measured. With `clusterNodes`, it runs on a Redis Cluster.
 */
import { Cluster } from 'ioredis';
import { Registry } from 'prom-client';
import { AtomicEngine } from '../../src';
import { runPod } from '../lib/pod-child';
import { reportError } from '../lib/pod-child';

export interface EnginePodConfig {
  redisUrl: string;
  keyPrefix: string;
  podId: string;
  entityType: string;
  idleTimeoutSeconds: number;
  heartbeatTTL: number;
  metrics?: boolean;
  /** The entity type's `batchSize` and `events` (undefined: the engine's defaults). */
  batchSize?: number;
  events?: boolean;
  /** Nodes of a Redis Cluster: the engine gets a `Cluster` client on them instead of `redisUrl`. */
  clusterNodes?: { host: string; port: number }[];
}

runPod<EnginePodConfig>((config, counter, errors) => {
  const engine = new AtomicEngine({
    redis: config.clusterNodes
      ? new Cluster(config.clusterNodes, { redisOptions: { maxRetriesPerRequest: null } })
      : config.redisUrl,
    keyPrefix: config.keyPrefix,
    podId: config.podId,
    processing: true,
    workerDefaults: { heartbeatTTL: config.heartbeatTTL },
    metrics: config.metrics ? { registry: new Registry() } : undefined,
    entities: {
      [config.entityType]: {
        idleTimeoutSeconds: config.idleTimeoutSeconds,
        batchSize: config.batchSize,
        events: config.events,
      },
    },
  });
  engine.registerHandler(config.entityType, () => Promise.resolve(undefined));
  engine.on('job:completed', () => counter.completed());
  engine.on('job:failed', (info: { error?: unknown }) =>
    reportError(errors, info.error, 'running a job (job:failed)'),
  );
  engine.on('error', (err: unknown, context: string) => reportError(errors, err, context));
  return {
    start: () => engine.start(),
    stop: () => engine.stop(),
    activeEntities: () => engine.getStats().activeEntities,
  };
});
