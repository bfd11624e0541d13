/**
 * The engine on a real Redis Cluster (3 masters started by the test, no replicas): every key
 * carries a hash tag, so each entity's keys and scripts stay on one slot while entities spread
 * over the masters; jobs run once, in order per entity, on both processing pods; results come
 * back to a producer-only pod, including after the holder went idle (on a Cluster the caller
 * wakes it: the wake set is in another slot); the failed-job calls work across slots.
 *
 * The pods are engines in this process, each with Cluster connections of its own: this checks
 * that the engine works on a Cluster; failure handling across processes is checked on a single
 * Redis by test/multi-pod and the chaos suite.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Cluster } from 'ioredis';
import type { Job } from 'bullmq';
import { AtomicEngine, type JobContext } from '../../src';
import { startLocalRedisCluster, type LocalRedisCluster } from '../../scripts/local-redis';
import { waitFor } from '../../support/async';
import { enginePrefix } from '../fixtures/engines';
import { leaseKey } from '../fixtures/queue-state';

const TYPE = 'acct';
const ENTITIES = 40;
const JOBS_PER_ENTITY = 15;

interface Outcome {
  entity: string;
  n: number;
  pod: string;
}

describe('on a Redis Cluster', () => {
  const prefix = enginePrefix('redisCluster');
  let cluster: LocalRedisCluster;
  const clients: Cluster[] = [];
  const engines: AtomicEngine[] = [];
  const errors: string[] = [];
  /** Per entity, the `n` of each job in the order the handlers ran them. */
  const ran = new Map<string, number[]>();
  /** Entities whose jobs fail (after they are counted in `ran`). */
  const failing = new Set<string>();
  let producer: AtomicEngine;
  /** What the burst's enqueueAndWait calls returned, in call order. */
  let results: Outcome[];
  /** Per burst entity (`a0`...), the jobs run by the end of the burst. */
  let ranInBurst: Map<string, number[]>;

  const newCluster = (): Cluster => {
    const client = new Cluster([...cluster.nodes], {
      redisOptions: { maxRetriesPerRequest: null },
    });
    clients.push(client);
    return client;
  };
  const newEngine = (podId: string, processing: boolean): AtomicEngine => {
    const engine = new AtomicEngine({
      redis: newCluster(),
      keyPrefix: prefix,
      podId,
      processing,
      entities: { [TYPE]: { idleTimeoutSeconds: 30 } },
    });
    engine.on('error', (err: Error, context: string) =>
      errors.push(`${podId} (${context}): ${err.message}`),
    );
    engines.push(engine);
    return engine;
  };

  before(async () => {
    cluster = await startLocalRedisCluster(3);
    for (const podId of ['p1', 'p2']) {
      const engine = newEngine(podId, true);
      engine.registerHandler(TYPE, async (job: Job, ctx: JobContext): Promise<Outcome> => {
        const { n } = job.data as { n: number };
        const seen = ran.get(ctx.entityId) ?? [];
        seen.push(n);
        ran.set(ctx.entityId, seen);
        if (failing.has(ctx.entityId)) throw new Error(`${ctx.entityId} failed`);
        await new Promise((resolve) => setTimeout(resolve, 1));
        return { entity: ctx.entityId, n, pod: ctx.podId };
      });
    }
    producer = newEngine('producer', false);
    await Promise.all(engines.map((e) => e.start()));
  });

  // The burst every test but the last looks at: ENTITIES × JOBS_PER_ENTITY jobs at once, each
  // awaited by the producer-only pod.
  before(
    async () => {
      const calls: Promise<unknown>[] = [];
      for (let e = 0; e < ENTITIES; e++) {
        for (let n = 0; n < JOBS_PER_ENTITY; n++) {
          calls.push(producer.enqueueAndWait(TYPE, `a${e}`, 'op', { n }, { timeoutMs: 30_000 }));
        }
      }
      results = (await Promise.all(calls)) as Outcome[];
      ranInBurst = new Map([...ran].map(([entity, seen]) => [entity, [...seen]]));
    },
    { timeout: 90_000 },
  );

  after(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    await cluster?.stop();
  });

  it('runs every job once, in order per entity, on both pods', () => {
    results.forEach((result, i) => {
      const e = Math.floor(i / JOBS_PER_ENTITY);
      assert.deepEqual([result.entity, result.n], [`a${e}`, i % JOBS_PER_ENTITY]);
    });
    const expected = Array.from({ length: JOBS_PER_ENTITY }, (_, n) => n);
    for (let e = 0; e < ENTITIES; e++) {
      assert.deepEqual(ranInBurst.get(`a${e}`), expected, `entity a${e}: each job once, in order`);
    }
    const pods = new Set(results.map((r) => r.pod));
    assert.deepEqual([...pods].sort(), ['p1', 'p2'], 'both pods ran jobs');
    assert.deepEqual(errors, [], 'no error events');
  });

  it('keeps each entity on one slot and spreads entities over the masters', async () => {
    const admin = newCluster();
    await once(admin, 'ready'); // the node list and slot map are loaded by then
    const keys: string[] = [];
    for (const node of admin.nodes('master')) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
    }
    assert.ok(keys.length > ENTITIES, `keys written: ${keys.length}`);
    const untagged = keys.filter((k) => !/\{[^}]+\}/.test(k));
    assert.deepEqual(untagged, [], 'every key has a hash tag');
    const slotsOfEntity = new Map<string, Set<number>>();
    for (const key of keys) {
      const tag = /\{([^}]+)\}/.exec(key)![1];
      const slot = Number(await admin.cluster('KEYSLOT', key));
      const slots = slotsOfEntity.get(tag) ?? new Set<number>();
      slots.add(slot);
      slotsOfEntity.set(tag, slots);
    }
    for (const [tag, slots] of slotsOfEntity) assert.equal(slots.size, 1, `${tag}: one slot`);
    const masters = new Set<string>();
    for (let e = 0; e < ENTITIES; e++) {
      const slot = Number(await admin.cluster('KEYSLOT', `{${TYPE}-a${e}-queue}`));
      const shard = admin.slots[slot]?.[0];
      if (shard) masters.add(shard);
    }
    assert.ok(masters.size >= 2, `entities on ${masters.size} master(s)`);
  });

  it('lists the entities with the pod holding each', async () => {
    // Their leases sit in 40 different slots, over every master.
    const listed = await producer.listEntities();
    const ours = listed.filter((e) => e.entityType === TYPE && /^a\d+$/.test(e.entityId));
    assert.equal(ours.length, ENTITIES);
    for (const e of ours) assert.ok(e.pod === 'p1' || e.pod === 'p2', `${e.entityId}: ${e.pod}`);
  });

  it('wakes an idle holder from another pod', { timeout: 30_000 }, async () => {
    // w0 is held (idle timeout 30 s) and idle before each call: each call must wake its holder.
    const admin = newCluster();
    const idle = (n: number) =>
      waitFor(async () => (await admin.hget(leaseKey(prefix, TYPE, 'w0'), 'i')) === '1', {
        message: `w0's holder idle after job ${n}`,
      });
    await producer.enqueueAndWait(TYPE, 'w0', 'op', { n: 0 });
    await idle(0);
    for (let n = 1; n <= 5; n++) {
      const result = (await producer.enqueueAndWait(TYPE, 'w0', 'op', { n })) as Outcome;
      assert.equal(result.n, n);
      await idle(n);
    }
    assert.deepEqual(ran.get('w0'), [0, 1, 2, 3, 4, 5], 'run once each, in order');
    assert.deepEqual(errors, [], 'no error events');
  });

  it('lists, retries and removes failed jobs across slots', { timeout: 30_000 }, async () => {
    const ids = ['f0', 'f1', 'f2'];
    ids.forEach((id) => failing.add(id));
    const jobs = await Promise.all(
      ids.map((id) =>
        producer.enqueueBulk(
          [0, 1].map((n) => ({ type: TYPE, entityId: id, name: 'op', data: { n } })),
        ),
      ),
    );
    await waitFor(
      async () => {
        const page = await producer.listFailedEntities(TYPE);
        return page.items.filter((e) => e.failedJobs === 2).length === 3;
      },
      { message: 'three entities with two failed jobs each, listed' },
    );
    const listed = await producer.listFailedJobs(TYPE, 'f0');
    assert.deepEqual(
      listed.items.map((j) => [j.id, j.failedReason]),
      jobs[0].map((id) => [id, 'f0 failed']),
    );
    failing.clear();
    assert.deepEqual((await producer.retryFailedJobs(TYPE, 'f0', 'all')).retried, jobs[0]);
    assert.deepEqual((await producer.removeFailedJobs(TYPE, 'f1', 'all')).removed, jobs[1]);
    await waitFor(() => ran.get('f0')?.length === 4, { message: 'f0 ran its jobs again' });
    assert.deepEqual(ran.get('f0'), [0, 1, 0, 1]);
    const left = (await producer.listFailedEntities(TYPE)).items.map((e) => e.entityId);
    assert.deepEqual(left, ['f2']);
    await producer.pauseEntity(TYPE, 'f2');
    const [next] = await producer.enqueueBulk([
      { type: TYPE, entityId: 'f2', name: 'op', data: { n: 2 } },
    ]);
    assert.deepEqual(await producer.skipNextJob(TYPE, 'f2'), { skipped: next, resumed: false });
    assert.deepEqual(errors, [], 'no error events');
  });
});
