/**
 * A job can sit in active, locked with the holder's own token, without the holder knowing it:
 * a `moveToActive` (or complete-and-fetch-next) that Redis ran but whose reply was lost with the
 * connection, after which ioredis resent the command. The holder must not leave it there: its
 * lease stays alive, so no other pod would ever recover it.
 *
 * The lost reply is reproduced by moving the job to active by hand, with the holder's token,
 * while the holder runs the job before it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from 'bullmq';
import { KeyBuilder } from '../../src/redis/keys';
import { defineScripts } from '../../src/redis/script-loader';
import { reclaimOwn } from '../../src/redis/scripts/reclaim-own';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';
import { leaseKey, queueKey } from '../fixtures/queue-state';

const TYPE = 'account';
const ENTITY = 'acct1';

describe('a job stranded in active under a live lease', () => {
  const { prefix, engines, redis } = integrationSuite('strandedActive');
  defineScripts(redis);

  it('is put back and run by its holder once the holder has nothing else to do', async () => {
    const ran: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const engine = engines.create({
      podId: 'podA',
      entities: { [TYPE]: { idleTimeoutSeconds: 1 } },
    });
    engine.registerHandler(TYPE, async (job: Job) => {
      const label = (job.data as { label: string }).label;
      ran.push(label);
      if (label === 'a') await gate;
    });
    await engine.start();
    await engine.enqueue(TYPE, ENTITY, 'op', { label: 'a' });
    await waitFor(() => ran.includes('a'), { message: 'a starts' });
    const b = await engine.enqueue(TYPE, ENTITY, 'op', { label: 'b' });

    // What a lost moveToActive reply leaves behind: b active, locked with the holder's token.
    const token = await redis.hget(leaseKey(prefix, TYPE, ENTITY), 't');
    assert.ok(token, 'podA holds the lease');
    const k = (s: string): string => queueKey(prefix, TYPE, ENTITY, s);
    assert.equal(await redis.rpoplpush(k('wait'), k('active')), b);
    await redis.set(`${k(b)}:lock`, token, 'PX', 30_000);

    release();
    await waitFor(() => ran.includes('b'), {
      timeoutMs: 10_000,
      message: `b runs; ran: ${ran.join(', ')}`,
    });
    await waitFor(async () => (await redis.zscore(k('completed'), b)) !== null, {
      message: 'b completes',
    });
    assert.deepEqual(ran, ['a', 'b'], 'each job ran once, in order');
    assert.equal(await redis.hget(leaseKey(prefix, TYPE, ENTITY), 't'), token, 'same holder');
    assert.equal(engines.errors.length, 0, `no error events:\n${engines.describeErrors()}`);
  });

  it('reclaimOwn puts the holder’s unseen jobs back at the head of wait, oldest first', async () => {
    const keys = new KeyBuilder(prefix).entityKeys(`{${TYPE}-script-queue}`);
    const { active, wait, lease, jobPrefix } = keys;
    await redis.hset(lease, 't', 'T1', 'p', 'podA', 'i', '0');
    // wait: newest left; the taking end is the right. j1..j3 were taken in order: active [j3 j2 j1].
    await redis.rpush(wait, 'j5', 'j4');
    await redis.rpush(active, 'j3', 'j2', 'j1', 'x1');
    await redis.set(`${jobPrefix}j1:lock`, 'T1');
    await redis.set(`${jobPrefix}j2:lock`, 'T1');
    await redis.set(`${jobPrefix}j3:lock`, 'T1');
    await redis.set(`${jobPrefix}x1:lock`, 'OTHER');

    // j2 is being run by another lane of the holder: it stays.
    const guard = (token: string) => ({
      leaseKey: lease,
      token,
      fence: '',
      podId: 'podA',
      ttlMs: 30_000,
    });
    const back = await reclaimOwn(redis, keys, guard('T1'), ['j2']);
    assert.equal(back, 2);
    assert.deepEqual(await redis.lrange(active, 0, -1), ['j2', 'x1']);
    // Taken from the right: j1 first, then j3, then the jobs that were already waiting.
    assert.deepEqual(await redis.lrange(wait, 0, -1), ['j5', 'j4', 'j3', 'j1']);
    assert.equal(await redis.exists(`${jobPrefix}j1:lock`, `${jobPrefix}j3:lock`), 0);
    assert.equal(await redis.get(`${jobPrefix}x1:lock`), 'OTHER');

    assert.equal(await reclaimOwn(redis, keys, guard('T0'), []), 'lost');
    assert.deepEqual(
      await redis.lrange(active, 0, -1),
      ['j2', 'x1'],
      'a stale token moves nothing',
    );
  });
});
