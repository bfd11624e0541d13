/**
 * The raw-BullMQ pod of `npm run bench -- compare`: one Worker on one shared queue (no
 * per-entity ordering or exclusion), whose jobs do the racy counter operation on the counter
 * named in their data, reporting each finished operation on the done channel. Drift is expected.
 */
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { counterKey, racyIncrement } from '../lib/counter';
import { DoneNotifier, doneChannel } from '../lib/done-channel';
import { reportError, runPod } from '../lib/pod-child';
import { quietQuit } from '../lib/quiet-quit';

export interface BullmqCounterPodConfig {
  redisUrl: string;
  prefix: string;
  queueName: string;
  podId: string;
  concurrency: number;
  ioMs: number;
}

export interface RawJobData {
  op: string;
  entityId: string;
}

runPod<BullmqCounterPodConfig>((config, counter, errors) => {
  const store = new Redis(config.redisUrl, {
    connectionName: `${config.prefix}:store:${config.podId}`,
    lazyConnect: true,
  });
  const onError = (err: unknown, context: string): void => reportError(errors, err, context);
  const notifier = new DoneNotifier(store, doneChannel(config.prefix), (err) =>
    onError(err, 'publishing completions'),
  );
  const worker = new Worker(
    config.queueName,
    (job: Job<RawJobData>) =>
      racyIncrement(store, counterKey(config.prefix, job.data.entityId), config.ioMs),
    {
      connection: {
        url: config.redisUrl,
        maxRetriesPerRequest: null,
        connectionName: `${config.prefix}:worker:${config.podId}`,
      },
      prefix: config.prefix,
      concurrency: config.concurrency,
      autorun: false,
    },
  );
  worker.on('completed', (job: Job<RawJobData>) => {
    counter.completed();
    notifier.done(job.data.op);
  });
  worker.on('failed', (_job, err) => onError(err, 'running a job (failed)'));
  worker.on('error', (err) => onError(err, 'worker'));
  return {
    start: async () => {
      await store.connect();
      await worker.waitUntilReady();
      void worker.run().catch((err: unknown) => onError(err, 'worker.run'));
    },
    stop: async () => {
      await worker.close();
      await quietQuit(store);
    },
  };
});
