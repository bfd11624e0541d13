/**
 * Entity ids at the QueueBus boundary: ids with `:`, `{`, `}`, spaces and non-ASCII work and stay
 * isolated from each other (and from ids their encoding could be confused with); empty, null,
 * object and oversized ids are rejected with InvalidEntityIdError before anything is written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from 'bullmq';
import {
  InvalidEntityIdError,
  JobHandler,
  QueueBus,
  QueueEntity,
  QueueEntityId,
  WorkerManagerService,
  WorkerProcessor,
} from '../../src';
import { newRedis } from '../helpers/redis';
import { waitFor } from '../../support/async';
import { startApp, type TestApp } from './nest-testing';

@QueueEntity('box')
class PutCommand {
  constructor(
    @QueueEntityId() public readonly boxId: unknown,
    public readonly item: string,
  ) {}
}

const received: { entityId: string; item: string }[] = [];

@WorkerProcessor({ entityType: 'box' })
class BoxProcessor {
  @JobHandler('PutCommand')
  put(job: Job, entityId: string) {
    received.push({ entityId, item: (job.data as PutCommand).item });
  }
}

const SPECIAL_IDS = [
  'a:b',
  'a%3Ab', // what `a:b` would encode to, if encoding were not injective
  '{a}',
  'a}{b',
  'with space',
  ' ',
  'ünïcödé-日本-🙂',
  'a-b-queue',
  'x'.repeat(128) + 'é'.repeat(192), // 512 bytes exactly
];

async function keyNames(prefix: string): Promise<string[]> {
  const redis = newRedis();
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    // Pod heartbeat keys come and go on their own; entity keys are what matters here.
    return keys.filter((k) => !k.includes('{__aq}')).sort();
  } finally {
    await redis.quit();
  }
}

describe('entity ids', () => {
  let t: TestApp;
  let bus: QueueBus;

  before(async () => {
    t = await startApp('entity-ids', { providers: [BoxProcessor] });
    bus = t.get(QueueBus);
  });
  after(() => t.close());

  it('ids with `:`, `{`, `}`, spaces and non-ASCII work and stay isolated', async () => {
    for (const id of SPECIAL_IDS) {
      await bus.enqueue(new PutCommand(id, `${id}#1`));
      await bus.enqueue(new PutCommand(id, `${id}#2`));
    }
    // Counts only this test's jobs: another test's may have run before.
    const ran = () => received.filter((r) => SPECIAL_IDS.includes(r.entityId));
    await waitFor(() => ran().length === SPECIAL_IDS.length * 2, { message: 'every job ran' });
    for (const id of SPECIAL_IDS) {
      assert.deepEqual(
        received.filter((r) => r.entityId === id).map((r) => r.item),
        [`${id}#1`, `${id}#2`],
        `jobs of ${JSON.stringify(id)}`,
      );
    }
    const manager = t.get(WorkerManagerService);
    for (const id of SPECIAL_IDS)
      assert.equal((await manager.getBacklog('box', id)).completed, 2, JSON.stringify(id));
  });

  it('a finite number works as its decimal string', async () => {
    await bus.enqueue(new PutCommand(42, 'n'));
    await waitFor(() => received.some((r) => r.entityId === '42' && r.item === 'n'), {
      message: 'job of entity 42 ran',
    });
  });

  const rejected: [string, unknown, RegExp][] = [
    ['empty', '', /expected a non-empty string, got ``/],
    ['null', null, /got null/],
    ['undefined', undefined, /got undefined/],
    ['an object', { id: 1 }, /got object/],
    ['NaN', Number.NaN, /expected a finite number/],
    ['oversized (513 bytes)', 'x'.repeat(511) + 'é', /513 bytes is over the 512-byte limit/],
  ];
  for (const [label, id, reason] of rejected) {
    it(`rejects ${label} ids before writing anything`, async () => {
      const keysBefore = await keyNames(t.prefix);
      await assert.rejects(
        bus.enqueue(new PutCommand(id, 'never')),
        (err: unknown) =>
          err instanceof InvalidEntityIdError &&
          err.code === 'INVALID_ENTITY_ID' &&
          err.message.startsWith('Invalid id for entity type `box`') &&
          reason.test(err.message),
      );
      if (typeof id === 'string' || typeof id === 'number')
        assert.throws(() => bus.forEntity('box', id), InvalidEntityIdError);
      assert.deepEqual(await keyNames(t.prefix), keysBefore, 'no key was written');
    });
  }
});
