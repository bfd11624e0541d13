/**
 * When an entity's queue runs dry, the runner's last step (the one that acknowledges its jobs and
 * finds nothing more to take) marks the holder idle itself, in the same call (step-4.lua), instead
 * of a call of `idle-8.lua` after it: one script call and one round trip fewer each time an entity
 * goes idle, which with sparse traffic (an entity gets a job now and then) is once a job. The
 * wake-up protocol is the same: an enqueue after that step finds the holder idle and wakes it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { AtomicEngine } from '../../src';
import { KeyBuilder } from '../../src/redis/keys';
import { scriptSource } from '../../src/redis/script-loader';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';

const TYPE = 'account';
/** The first words of each script's header comment. */
const OPENING: Record<string, string> = {
  idle: 'Marks the owner idle when its queue has nothing to take now',
  step: 'One step of many runners at once',
};

describe('an entity whose queue runs dry', () => {
  const { prefix, engines, redis } = integrationSuite('idleInStep');
  const sha = (name: 'idle' | 'step'): string =>
    createHash('sha1').update(scriptSource(name)).digest('hex');
  const scripts = { idle: sha('idle'), step: sha('step') };
  const [idleSha, stepSha] = [scripts.idle, scripts.step];
  let monitor: Redis | undefined;
  /** The scripts the worker's connections ran, by SHA, in order. */
  const calls: string[] = [];
  const synced = new Set<string>();
  let producer: AtomicEngine;

  before(async () => {
    // As in reply-with-completion.test.ts: nothing else talks to Redis while the monitor starts.
    await redis.ping();
    monitor = await redis.monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      const command = args[0]?.toLowerCase();
      // A script's first call on a connection goes as EVAL with its source (as MONITOR prints it:
      // escaped, so it is known by its opening words), the next ones as EVALSHA.
      if (command === 'evalsha') calls.push(args[1]);
      if (command === 'eval')
        for (const [name, sha] of Object.entries(scripts))
          if (args[1]?.includes(OPENING[name])) calls.push(sha);
      if (args[0]?.toLowerCase() === 'exists' && args[1]?.startsWith(`${prefix}:sync:`))
        synced.add(args[1]);
    });
    const worker = engines.create({ podId: 'worker', entities: { [TYPE]: {} } });
    worker.registerHandler(TYPE, (job) => Promise.resolve((job.data as { n: number }).n * 2));
    producer = engines.create({ podId: 'producer', processing: false, entities: { [TYPE]: {} } });
    await Promise.all([worker.start(), producer.start()]);
  });
  after(() => monitor?.disconnect());

  const leaseKey = (id: string): string =>
    new KeyBuilder(prefix).entityKeys(producer.queueName(TYPE, id)).lease;
  /**
   * The scripts the worker ran so far, idle-8.lua's counted: MONITOR streams commands in the order
   * Redis ran them, so once it shows a marker sent now, it has shown every call before it.
   */
  let marks = 0;
  const idleCalls = async (): Promise<number> => {
    const mark = `${prefix}:sync:${(marks += 1)}`;
    await redis.exists(mark);
    await waitFor(() => synced.has(mark), { message: 'the monitor caught up' });
    return calls.filter((sha) => sha === idleSha).length;
  };

  it('is marked idle by the step that found nothing more, with no idle call', async () => {
    const lease = leaseKey('a');
    const results = await Promise.all(
      [1, 2, 3].map((n) => producer.enqueueAndWait(TYPE, 'a', 'double', { n })),
    );
    assert.deepEqual(results, [2, 4, 6]);
    await waitFor(async () => (await redis.hget(lease, 'i')) === '1', {
      message: 'the holder marked idle',
    });
    assert.ok(calls.includes(stepSha), 'the monitor saw the steps (so it would see an idle call)');
    assert.equal(await idleCalls(), 0, 'no idle-8.lua call');
    assert.equal(engines.errors.length, 0, engines.describeErrors());
  });

  it('is woken by the next enqueue, each time, and each time goes idle in its step', async () => {
    const lease = leaseKey('b');
    for (let n = 1; n <= 5; n++) {
      // One job at a time: each one wakes the idle holder, runs, and the holder goes idle again.
      assert.equal(await producer.enqueueAndWait(TYPE, 'b', 'double', { n }), n * 2);
      await waitFor(async () => (await redis.hget(lease, 'i')) === '1', {
        message: `the holder marked idle after job ${n}`,
      });
    }
    assert.equal(await idleCalls(), 0, 'no idle-8.lua call');
    assert.equal(engines.errors.length, 0, engines.describeErrors());
  });
});
