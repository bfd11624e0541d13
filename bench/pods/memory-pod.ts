/**
 * A processing pod of the memory benchmark: one AtomicEngine with a no-op handler for the given
 * entity types. Its `details` (sent with `report`) are its memory, read after a full garbage
 * collection (the pod runs with --expose-gc), so they show what the pod keeps, not what it has
 * not collected yet. Started by bench/scenarios/memory.ts.
 */
import { AtomicEngine, type EntityTypeOptions } from '../../src';
import { reportError, runPod } from '../lib/pod-child';

export interface MemoryPodConfig {
  redisUrl: string;
  keyPrefix: string;
  podId: string;
  heartbeatTTL: number;
  cronInterval: number;
  entities: Record<string, EntityTypeOptions>;
}

/** A pod's memory after a full collection, MiB. */
export interface MemoryPodDetails {
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

const MB = 2 ** 20;

function memoryAfterGc(): MemoryPodDetails {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return {
    rssMb: m.rss / MB,
    heapUsedMb: m.heapUsed / MB,
    heapTotalMb: m.heapTotal / MB,
    externalMb: m.external / MB,
  };
}

runPod<MemoryPodConfig>((config, counter, errors) => {
  const engine = new AtomicEngine({
    redis: config.redisUrl,
    keyPrefix: config.keyPrefix,
    podId: config.podId,
    cronInterval: config.cronInterval,
    workerDefaults: { heartbeatTTL: config.heartbeatTTL },
    entities: config.entities,
  });
  for (const type of Object.keys(config.entities))
    engine.registerHandler(type, () => Promise.resolve(undefined));
  engine.on('job:completed', () => counter.completed());
  engine.on('error', (err: unknown, context: string) => reportError(errors, err, context));
  return {
    start: () => engine.start(),
    stop: () => engine.stop(),
    activeEntities: () => engine.getStats().activeEntities,
    details: memoryAfterGc,
  };
});
