/**
 * A groupmq pod of `npm run bench -- compare`: one groupmq Worker (per-group FIFO, one job per
 * group at a time) whose jobs do the racy counter operation on their group's counter, reporting
 * each finished operation on the done channel. Started by bench/lib/pod-runner.ts.
 */
import { Queue, Worker } from 'groupmq';
import { Redis } from 'ioredis';
import { counterKey, racyIncrement } from '../lib/counter';
import { DoneNotifier, doneChannel } from '../lib/done-channel';
import { reportError, runPod } from '../lib/pod-child';
import { quietQuit } from '../lib/quiet-quit';

export interface GroupmqCounterPodConfig {
  redisUrl: string;
  /** Counter and done-channel prefix. */
  prefix: string;
  /** groupmq namespace (its keys are `groupmq:<namespace>:…`). */
  namespace: string;
  podId: string;
  concurrency: number;
  jobTimeoutMs: number;
  ioMs: number;
}

export interface CounterJobData {
  op: string;
}

runPod<GroupmqCounterPodConfig>((config, counter, errors) => {
  const open = (role: string): Redis =>
    new Redis(config.redisUrl, {
      connectionName: `${config.prefix}:${role}:${config.podId}`,
      lazyConnect: true,
      maxRetriesPerRequest: null,
    });
  const redis = open('groupmq');
  const store = open('store');
  const onError = (err: unknown, context: string): void => reportError(errors, err, context);
  const notifier = new DoneNotifier(store, doneChannel(config.prefix), (err) =>
    onError(err, 'publishing completions'),
  );
  let queue: Queue<CounterJobData> | undefined;
  let worker: Worker<CounterJobData> | undefined;
  return {
    // groupmq's Queue talks to Redis from its constructor: build it once connected.
    start: async () => {
      await Promise.all([redis.connect(), store.connect()]);
      queue = new Queue<CounterJobData>({
        redis,
        namespace: config.namespace,
        jobTimeoutMs: config.jobTimeoutMs,
        keepCompleted: 0,
      });
      const w = new Worker<CounterJobData>({
        queue,
        concurrency: config.concurrency,
        handler: (job) => racyIncrement(store, counterKey(config.prefix, job.groupId), config.ioMs),
        onError: (err) => onError(err, 'groupmq worker'),
      });
      w.on('completed', (job) => {
        counter.completed();
        notifier.done(job.data.op);
      });
      w.on('failed', (job) => onError(new Error(job.failedReason), 'running a job (failed)'));
      worker = w;
      void w.run().catch((err: unknown) => onError(err, 'worker.run'));
    },
    stop: async () => {
      await worker?.close();
      await queue?.close();
      await Promise.all([quietQuit(redis), quietQuit(store)]);
    },
  };
});
