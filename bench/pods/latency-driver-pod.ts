/**
 * The driver of `npm run bench -- latency`: one call at a time, it measures an `enqueueAndWait`
 * round trip on a warm entity (held by a pod), on a cold one (a fresh id: held by no pod), and a
 * Redlock acquire → read → write → release on the same Redis. The three kinds run interleaved in
 * blocks, so a change in the machine's load hits all three alike. Reports through `details`.
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import Redlock from 'redlock';
import { AtomicEngine } from '../../src';
import { counterKey, racyIncrement } from '../lib/counter';
import { summarize, type LatencySummary } from '../lib/percentiles';
import { reportError, runPod } from '../lib/pod-child';
import { quietQuit } from '../lib/quiet-quit';
import { lockKey } from './clients/redlock-client';

export interface LatencyDriverConfig {
  redisUrl: string;
  keyPrefix: string;
  entityType: string;
  /** Measured calls of each kind. */
  calls: number;
  /** Unmeasured calls of the warm and Redlock kinds first (connections, scripts, JIT). */
  warmupCalls: number;
  /** Calls of one kind before switching to the next. */
  blockSize: number;
  waitTimeoutMs: number;
  lockTtlMs: number;
  warmEntityId: string;
  redlockEntityId: string;
  coldIdPrefix: string;
}

export interface LatencyDriverDetails {
  phase: 'starting' | 'measuring' | 'done';
  warm?: LatencySummary;
  cold?: LatencySummary;
  redlock?: LatencySummary;
  redlockAttempts: number;
}

runPod<LatencyDriverConfig>((config, counter, errors) => {
  const engine = new AtomicEngine({
    redis: config.redisUrl,
    keyPrefix: config.keyPrefix,
    podId: 'driver',
    processing: false,
    entities: { [config.entityType]: {} },
  });
  engine.on('error', (err: unknown, context: string) => reportError(errors, err, context));
  const store = new Redis(config.redisUrl, {
    connectionName: `${config.keyPrefix}:redlock:driver`,
    lazyConnect: true,
  });
  const redlock = new Redlock([store]);
  const details: LatencyDriverDetails = { phase: 'starting', redlockAttempts: 0 };
  const samples = {
    warm: new Float64Array(config.calls),
    cold: new Float64Array(config.calls),
    redlock: new Float64Array(config.calls),
  };

  const warmCall = (): Promise<unknown> =>
    engine.enqueueAndWait(
      config.entityType,
      config.warmEntityId,
      'op',
      {},
      { timeoutMs: config.waitTimeoutMs },
    );
  const coldCall = (i: number): Promise<unknown> =>
    engine.enqueueAndWait(
      config.entityType,
      `${config.coldIdPrefix}${i}`,
      'op',
      {},
      { timeoutMs: config.waitTimeoutMs },
    );
  const redlockCall = async (): Promise<void> => {
    const lock = await redlock.acquire(
      [lockKey(config.keyPrefix, config.redlockEntityId)],
      config.lockTtlMs,
    );
    details.redlockAttempts += lock.attempts.length;
    try {
      await racyIncrement(store, counterKey(config.keyPrefix, config.redlockEntityId), 0);
    } finally {
      await lock.release();
    }
  };

  const timed = async (into: Float64Array, i: number, call: () => Promise<unknown>) => {
    const t0 = performance.now();
    await call();
    into[i] = performance.now() - t0;
    counter.completed();
  };

  const run = async (): Promise<void> => {
    await store.connect();
    await engine.start();
    for (let i = 0; i < config.warmupCalls; i++) {
      await warmCall();
      await redlockCall();
    }
    details.phase = 'measuring';
    for (let from = 0; from < config.calls; from += config.blockSize) {
      const to = Math.min(config.calls, from + config.blockSize);
      for (let i = from; i < to; i++) await timed(samples.warm, i, warmCall);
      for (let i = from; i < to; i++) await timed(samples.cold, i, () => coldCall(i));
      for (let i = from; i < to; i++) await timed(samples.redlock, i, redlockCall);
    }
    details.warm = summarize(samples.warm, 4);
    details.cold = summarize(samples.cold, 4);
    details.redlock = summarize(samples.redlock, 4);
    details.phase = 'done';
  };

  return {
    start: () => {
      run().catch((err: unknown) => {
        reportError(errors, err, 'measuring latencies');
        setTimeout(() => process.exit(1), 200);
      });
      return Promise.resolve();
    },
    stop: async () => {
      await engine.stop();
      await quietQuit(store);
    },
    details: () => details,
  };
});
