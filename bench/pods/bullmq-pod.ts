/**
 * The plain-BullMQ baseline pod: one `Worker` on one queue with a no-op processor, counting its
 * `completed` events. Started by bench/lib/pod-runner.ts.
 */
import { Worker, type KeepJobs } from 'bullmq';
import { runPod, reportError } from '../lib/pod-child';

export interface BullmqPodConfig {
  redisUrl: string;
  prefix: string;
  queueName: string;
  concurrency: number;
  removeOnComplete: KeepJobs;
}

runPod<BullmqPodConfig>((config, counter, errors) => {
  const worker = new Worker(config.queueName, () => Promise.resolve(undefined), {
    connection: { url: config.redisUrl, maxRetriesPerRequest: null },
    prefix: config.prefix,
    concurrency: config.concurrency,
    removeOnComplete: config.removeOnComplete,
    autorun: false,
  });
  worker.on('completed', () => counter.completed());
  worker.on('failed', (_job, err) => reportError(errors, err, 'running a job (failed)'));
  worker.on('error', (err) => reportError(errors, err, 'worker'));
  return {
    start: async () => {
      await worker.waitUntilReady();
      void worker.run().catch((err: unknown) => reportError(errors, err, 'worker.run'));
    },
    stop: () => worker.close(),
  };
});
