/**
 * startLocalRedisCluster with replicas: 3 masters + 3 replicas come up, each master followed by
 * one replica; `failover()` SIGKILLs the master holding a key and a replica takes over with the
 * key (read back through the same ioredis Cluster client); `rejoin()` brings the killed node
 * back as a replica of the promoted one; `stop()` leaves no process behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster } from 'ioredis';
import {
  startLocalRedisCluster,
  type FailoverResult,
  type LocalRedisCluster,
} from '../../scripts/local-redis';
import { gone } from './connect';

describe('a local Redis Cluster with replicas', () => {
  let cluster: LocalRedisCluster | undefined;
  let client: Cluster | undefined;
  let startMs = 0;
  let failover: FailoverResult | undefined;

  before(async () => {
    const startedAt = Date.now();
    cluster = await startLocalRedisCluster({ masters: 3, replicasPerMaster: 1 });
    startMs = Date.now() - startedAt;
    client = new Cluster([...cluster.nodes], { redisOptions: { commandTimeout: 5_000 } });
  });

  after(async () => {
    await client?.quit().catch(() => client?.disconnect());
    await cluster?.stop();
  });

  it('lists 3 masters, each followed by one replica', async (t) => {
    t.diagnostic(`6 nodes ready in ${startMs} ms`);
    const nodes = await cluster!.listNodes();
    const masters = nodes.filter((n) => n.role === 'master');
    const replicas = nodes.filter((n) => n.role === 'replica');
    assert.equal(masters.length, 3);
    assert.deepEqual(
      replicas.map((r) => r.masterPort).sort(),
      masters.map((m) => m.port).sort(),
      'each master has exactly one replica',
    );
    const slots = masters.flatMap((m) => m.slots).reduce((sum, [a, b]) => sum + b - a + 1, 0);
    assert.equal(slots, 16384, 'the masters serve every slot');
    for (const node of nodes) {
      assert.ok(node.pid > 0 && !gone(node.pid), `${node.port}: process ${node.pid} running`);
      assert.equal(node.failed, false);
    }
  });

  it(
    'fails a master over to its replica without losing a write',
    { timeout: 60_000 },
    async (t) => {
      await client!.set('failover:key', 'written before the kill');
      const slot = Number(await client!.cluster('KEYSLOT', 'failover:key'));
      const masterPort = Number(client!.slots[slot][0].split(':')[1]);
      const follower = (await cluster!.listNodes()).find((n) => n.masterPort === masterPort);

      const result = await cluster!.failover({ master: masterPort });
      failover = result;
      t.diagnostic(`failover of ${masterPort} to ${result.promotedPort}: ${result.failoverMs} ms`);
      assert.equal(result.killedPort, masterPort);
      assert.equal(result.promotedPort, follower?.port, 'its replica took over');
      assert.equal(await client!.get('failover:key'), 'written before the kill');
      await client!.set('failover:key', 'written after');
      assert.equal(await client!.get('failover:key'), 'written after');

      const nodes = await cluster!.listNodes();
      const promoted = nodes.find((n) => n.port === result.promotedPort);
      assert.equal(promoted?.role, 'master');
      assert.ok(
        promoted.slots.some(([a, b]) => a <= slot && slot <= b),
        'serves the key slot',
      );
      assert.equal(nodes.find((n) => n.port === masterPort)?.failed, true, 'killed node failed');
    },
  );

  it('brings the killed master back as a replica of the promoted one', async (t) => {
    assert.ok(failover, 'the previous test failed a master over');
    const ms = await cluster!.rejoin(failover.killedPort);
    t.diagnostic(`rejoined in ${ms} ms`);
    const back = (await cluster!.listNodes()).find((n) => n.port === failover!.killedPort);
    assert.equal(back?.role, 'replica');
    assert.equal(back.failed, false);
    assert.equal(back.masterPort, failover.promotedPort);
    assert.equal(await client!.get('failover:key'), 'written after');
  });

  it('stops every node', async () => {
    const pids = cluster!.servers.map((s) => s.pid);
    await client!.quit();
    client = undefined;
    await cluster!.stop();
    cluster = undefined;
    assert.deepEqual(
      pids.filter((pid) => !gone(pid)),
      [],
      'no redis-server left running',
    );
  });
});
