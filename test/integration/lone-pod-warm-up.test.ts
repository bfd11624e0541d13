/**
 * A pod that sees no other processing pod during its warm-up (its first TTL plus a heartbeat)
 * may not have seen every live pod yet, so it does not claim a whole backlog at once; but it
 * claims 1, 2, 4, … entities per round trip, not one per blocking pop: a lone pod restarted with
 * a backlog over many entities ran at half speed for its whole warm-up when it took one at a
 * time. Counted with MONITOR: the worker's blocking pops on the spawn set.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { AtomicEngine } from '../../src';
import { KeyBuilder } from '../../src/redis/keys';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';

const TYPE = 'account';
const ENTITIES = 200;

describe('a lone pod warming up, with a backlog over many entities', () => {
  const { prefix, engines, redis } = integrationSuite('loneWarmUp');
  const spawnKey = new KeyBuilder(prefix).spawnKey();
  let monitor: Redis | undefined;
  let spawnPops = 0;
  const synced = new Set<string>();
  let producer: AtomicEngine;

  before(async () => {
    producer = engines.create({ podId: 'producer', processing: false, entities: { [TYPE]: {} } });
    await producer.start();
    // No processing pod yet: each entity is offered in the spawn set.
    await Promise.all(
      Array.from({ length: ENTITIES }, (_, i) => producer.enqueue(TYPE, `e${i}`, 'op', { i })),
    );
    await redis.ping();
    monitor = await redis.monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      const command = args[0]?.toLowerCase();
      if (command === 'bzpopmin' && args.includes(spawnKey)) spawnPops += 1;
      if (command === 'exists' && args[1]?.startsWith(`${prefix}:sync:`)) synced.add(args[1]);
    });
  });
  after(() => monitor?.disconnect());

  it('claims them in a few rounds, within its warm-up', async () => {
    assert.equal(await redis.zcard(spawnKey), ENTITIES, 'every entity offered');
    // A long TTL keeps the whole run inside the worker's warm-up.
    const worker = engines.create({
      podId: 'worker',
      workerDefaults: { heartbeatTTL: 30 },
      entities: { [TYPE]: {} },
    });
    let completed = 0;
    worker.on('job:completed', () => (completed += 1));
    worker.registerHandler(TYPE, () => Promise.resolve('done'));
    await worker.start();
    await waitFor(() => completed === ENTITIES, {
      timeoutMs: 20_000,
      message: `all ${ENTITIES} jobs run (${completed} so far)`,
    });
    assert.equal(worker.getStats().claims, ENTITIES, 'the lone pod claimed every entity');
    // MONITOR streams commands in the order Redis ran them: once it shows this marker, it has
    // shown every pop before it.
    const mark = `${prefix}:sync:1`;
    await redis.exists(mark);
    await waitFor(() => synced.has(mark), { message: 'the monitor caught up' });
    // 1, 2, 4, … up to 64 per round: ~10 rounds. One at a time was one pop per entity.
    assert.ok(
      spawnPops <= 30,
      `${spawnPops} blocking pops on the spawn set for ${ENTITIES} entities (one per entity ` +
        'would be one at a time)',
    );
  });
});
