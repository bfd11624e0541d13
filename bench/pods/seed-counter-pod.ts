/**
 * A seed-baseline pod of `npm run bench -- compare`: a SeedWorkerManager (one BullMQ Worker per
 * claimed entity, bench/baselines/seed) whose jobs do the racy counter operation, reporting each
 * finished operation on the done channel. Started by bench/lib/pod-runner.ts.
 */
import { Redis } from 'ioredis';
import { SeedWorkerManager } from '../baselines/seed/worker-manager';
import { counterKey, racyIncrement } from '../lib/counter';
import { DoneNotifier, doneChannel } from '../lib/done-channel';
import { reportError, runPod } from '../lib/pod-child';
import { quietQuit } from '../lib/quiet-quit';

export interface SeedCounterPodConfig {
  redisUrl: string;
  prefix: string;
  podId: string;
  ioMs: number;
  idleTimeoutSeconds: number;
  heartbeatMs: number;
  claimTtlMs: number;
  stalledIntervalMs: number;
}

runPod<SeedCounterPodConfig>((config, counter, errors) => {
  const open = (role: string, blocking = false): Redis =>
    new Redis(config.redisUrl, {
      connectionName: `${config.prefix}:${role}:${config.podId}`,
      lazyConnect: true,
      ...(blocking ? { maxRetriesPerRequest: null } : {}),
    });
  const connection = open('seed', true);
  const subscriber = open('spawn-sub');
  const store = open('store');
  const onError = (err: unknown, context: string): void => reportError(errors, err, context);
  const notifier = new DoneNotifier(connection, doneChannel(config.prefix), (err) =>
    onError(err, 'publishing completions'),
  );
  const manager = new SeedWorkerManager({
    connection,
    subscriber,
    prefix: config.prefix,
    podId: config.podId,
    idleTimeoutMs: config.idleTimeoutSeconds * 1000,
    heartbeatMs: config.heartbeatMs,
    claimTtlMs: config.claimTtlMs,
    stalledIntervalMs: config.stalledIntervalMs,
    process: (entityId) => racyIncrement(store, counterKey(config.prefix, entityId), config.ioMs),
    onCompleted: (_entityId, job) => {
      counter.completed();
      notifier.done(String((job.data as { op: string }).op));
    },
    onError,
  });
  return {
    start: async () => {
      await Promise.all([connection.connect(), subscriber.connect(), store.connect()]);
      await manager.start();
    },
    stop: async () => {
      await manager.stop();
      subscriber.disconnect();
      await Promise.all([quietQuit(connection), quietQuit(store)]);
    },
    activeEntities: () => manager.activeWorkers(),
    details: () => ({ ...manager.stats }),
  };
});
