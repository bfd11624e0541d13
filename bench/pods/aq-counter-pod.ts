/**
 * An atomic-queues pod of the comparison workloads (compare, latency): one processing
 * AtomicEngine whose handler does the racy counter operation (bench/lib/counter.ts) on its own
 * store connection. Started by bench/lib/pod-runner.ts.
 */
import { Redis } from 'ioredis';
import { AtomicEngine } from '../../src';
import { counterKey, racyIncrement } from '../lib/counter';
import { reportError, runPod } from '../lib/pod-child';
import { quietQuit } from '../lib/quiet-quit';

export interface AqCounterPodConfig {
  redisUrl: string;
  keyPrefix: string;
  podId: string;
  entityType: string;
  idleTimeoutSeconds: number;
  heartbeatTTL: number;
  /** Simulated I/O between the read and the write, ms (0: none). */
  ioMs: number;
}

runPod<AqCounterPodConfig>((config, counter, errors) => {
  const store = new Redis(config.redisUrl, {
    connectionName: `${config.keyPrefix}:store:${config.podId}`,
    lazyConnect: true,
  });
  const engine = new AtomicEngine({
    redis: config.redisUrl,
    keyPrefix: config.keyPrefix,
    podId: config.podId,
    processing: true,
    workerDefaults: { heartbeatTTL: config.heartbeatTTL },
    entities: { [config.entityType]: { idleTimeoutSeconds: config.idleTimeoutSeconds } },
  });
  engine.registerHandler(config.entityType, (_job, ctx) =>
    racyIncrement(store, counterKey(config.keyPrefix, ctx.entityId), config.ioMs),
  );
  engine.on('job:completed', () => counter.completed());
  engine.on('job:failed', (info: { error?: unknown }) =>
    reportError(errors, info.error, 'running a job (job:failed)'),
  );
  engine.on('error', (err: unknown, context: string) => reportError(errors, err, context));
  return {
    start: async () => {
      await store.connect();
      await engine.start();
    },
    stop: async () => {
      await engine.stop();
      await quietQuit(store);
    },
    activeEntities: () => engine.getStats().activeEntities,
    details: () => engine.getStats(),
  };
});
