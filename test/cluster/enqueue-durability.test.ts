/**
 * The `durability` option on a real Redis Cluster with replicas (3 masters + 3 replicas started
 * by the test): an enqueue resolves once the entity master's replica has the job (`WAIT` on the
 * node that took the write); with that replica stopped (SIGSTOP), an enqueue for an entity on its
 * master rejects with ReplicationTimeoutError (NOT_REPLICATED) after `timeoutMs`, on the hot path
 * (the pod holds the entity) and the batch path (it does not) alike, while the job stays stored
 * and runs; an entity on another master is not held up; once the replica is back, retrying the
 * same job id resolves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import type { Job } from 'bullmq';
import { AtomicEngine, ReplicationTimeoutError, type JobContext } from '../../src';
import {
  startLocalRedisCluster,
  type ClusterNode,
  type LocalRedisCluster,
} from '../../scripts/local-redis';
import { waitFor } from '../../support/async';
import { enginePrefix } from '../fixtures/engines';
import { queueKey } from '../fixtures/queue-state';

const TYPE = 'acct';
/**
 * The durability option's `timeoutMs`: long enough for a replica's acknowledgement on a loaded
 * machine (with 500 ms a CI run saw the healthy replica of the first case time out).
 */
const TIMEOUT_MS = 2_000;

describe('enqueue with the durability option on a Cluster with replicas', () => {
  const prefix = enginePrefix('durability');
  let cluster: LocalRedisCluster;
  let client: Cluster;
  let engine: AtomicEngine;
  const ran: string[] = [];
  const errors: string[] = [];

  /** The master serving `entity`'s keys, and that master's replica. */
  const placement = async (entity: string): Promise<{ master: number; replica: number }> => {
    const slot = Number(await client.cluster('KEYSLOT', queueKey(prefix, TYPE, entity, 'wait')));
    const nodes: ClusterNode[] = await cluster.listNodes();
    const master = nodes.find(
      (n) => n.role === 'master' && n.slots.some(([a, b]) => a <= slot && slot <= b),
    );
    const replica = nodes.find((n) => n.role === 'replica' && n.masterPort === master?.port);
    assert.ok(master && replica, `slot ${slot} has a master with a replica`);
    return { master: master.port, replica: replica.port };
  };
  const stored = async (entity: string, jobId: string): Promise<boolean> =>
    (await client.exists(queueKey(prefix, TYPE, entity, jobId))) === 1;

  before(async () => {
    cluster = await startLocalRedisCluster({ masters: 3, replicasPerMaster: 1 });
    client = new Cluster([...cluster.nodes], { redisOptions: { maxRetriesPerRequest: null } });
    engine = new AtomicEngine({
      redis: client,
      keyPrefix: prefix,
      podId: 'durable',
      durability: { replicas: 1, timeoutMs: TIMEOUT_MS },
      entities: { [TYPE]: { idleTimeoutSeconds: 60 } },
      logger: false,
    });
    engine.on('error', (err: Error, context: string) => errors.push(`${context}: ${err.message}`));
    engine.registerHandler(TYPE, (job: Job, ctx: JobContext) => {
      ran.push(`${ctx.entityId}/${job.id}`);
      return Promise.resolve();
    });
    await engine.start();
  });

  after(async () => {
    await engine?.stop();
    await client?.quit().catch(() => client.disconnect());
    await cluster?.stop();
  });

  it('resolves once the replica has the job', async () => {
    const { replica } = await placement('a');
    await engine.enqueue(TYPE, 'a', 'op', {}, { jobId: 'a1' });
    // Read from the replica itself: WAIT said it has the job.
    const copy = new Redis({ host: '127.0.0.1', port: replica, maxRetriesPerRequest: 1 });
    try {
      await copy.call('READONLY');
      assert.equal(await copy.exists(queueKey(prefix, TYPE, 'a', 'a1')), 1);
    } finally {
      copy.disconnect();
    }
    await waitFor(() => ran.includes('a/a1'), { message: 'a1 ran' });
  });

  it(
    'rejects with ReplicationTimeoutError within timeoutMs while the replica is stopped',
    { timeout: 60_000 },
    async (t) => {
      const a = await placement('a');
      // Entities on a's master (not held yet) and on another master.
      let same: string | undefined;
      let other: string | undefined;
      for (let i = 0; (!same || !other) && i < 200; i++) {
        const { master } = await placement(`e${i}`);
        if (master === a.master) same ??= `e${i}`;
        else other ??= `e${i}`;
      }
      assert.ok(same && other, 'found entities on both sides');
      assert.ok(ran.includes('a/a1'), 'this pod holds a (hot path)');

      cluster.kill(a.replica, 'SIGSTOP');
      try {
        for (const [entity, jobId] of [
          ['a', 'a2'],
          [same, `${same}-1`],
        ]) {
          const startedAt = Date.now();
          await assert.rejects(
            engine.enqueue(TYPE, entity, 'op', {}, { jobId }),
            (err: unknown) =>
              err instanceof ReplicationTimeoutError &&
              err.code === 'NOT_REPLICATED' &&
              err.acknowledged === 0 &&
              err.replicas === 1,
            `${entity}: not replicated`,
          );
          const ms = Date.now() - startedAt;
          t.diagnostic(`${entity}: rejected after ${ms} ms`);
          assert.ok(ms >= TIMEOUT_MS - 5 && ms < TIMEOUT_MS + 2000, `${entity}: after ${ms} ms`);
          assert.ok(await stored(entity, jobId), `${entity}: the job is stored on the master`);
        }
        await engine.enqueue(TYPE, other, 'op', {}, { jobId: `${other}-1` });
        await waitFor(() => ran.includes(`a/a2`) && ran.includes(`${same}/${same}-1`), {
          message: 'the jobs not replicated ran all the same',
        });
      } finally {
        cluster.kill(a.replica, 'SIGCONT');
      }
      // Back: the retry with the same id resolves (stored once, replicated now).
      await engine.enqueue(TYPE, same, 'op', {}, { jobId: `${same}-1` });
      assert.equal(ran.filter((r) => r === `${same}/${same}-1`).length, 1, 'ran once');
      assert.deepEqual(errors, []);
    },
  );
});
