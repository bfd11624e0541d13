/**
 * QueueBus rejects what it cannot route, with typed errors naming the class or type: an unknown
 * entity type, a class without @QueueEntity, a @QueueEntity class naming no id property, a class
 * that is not a @WorkerProcessor. `entities[type].defaultEntityId` supplies the id property.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from 'bullmq';
import {
  JobHandler,
  MissingEntityIdError,
  MissingQueueEntityError,
  NotAProcessorError,
  QueueBus,
  QueueEntity,
  UnknownEntityTypeError,
  WorkerProcessor,
} from '../../src';
import { startApp, type TestApp } from './nest-testing';

@QueueEntity('ghost')
class HauntCommand {
  constructor(public readonly ghostId: string) {}
}

class PlainCommand {
  constructor(public readonly accountId: string) {}
}

@QueueEntity('cart')
class AddItemCommand {
  constructor(
    public readonly cartId: string,
    public readonly sku: string,
  ) {}
}

@QueueEntity('shelf')
class StockCommand {
  constructor(public readonly shelfId: string) {}
}

@WorkerProcessor({ entityType: 'cart' })
class CartProcessor {
  @JobHandler('*')
  any(job: Job, entityId: string) {
    return { entityId, name: job.name };
  }
}

@WorkerProcessor({ entityType: 'shelf' })
class ShelfProcessor {
  @JobHandler('*')
  any(): void {}
}

class NotAProcessor {}

describe('unknown targets', () => {
  let t: TestApp;
  let bus: QueueBus;

  before(async () => {
    t = await startApp('unknown-targets', {
      providers: [CartProcessor, ShelfProcessor],
      options: { entities: { cart: { defaultEntityId: 'cartId' } } },
    });
    bus = t.get(QueueBus);
  });
  after(() => t.close());

  it('an entity type no processor, handler or config declares', async () => {
    await assert.rejects(
      bus.enqueue(new HauntCommand('g-1')),
      (err: unknown) =>
        err instanceof UnknownEntityTypeError &&
        err.code === 'UNKNOWN_ENTITY_TYPE' &&
        err.message.startsWith('Unknown entity type `ghost`. Known types: `cart`, `shelf`'),
    );
    assert.throws(() => bus.forEntity('ghost', 'g-1'), UnknownEntityTypeError);
  });

  it('a class without @QueueEntity', async () => {
    await assert.rejects(
      bus.enqueue(new PlainCommand('a-1')),
      (err: unknown) =>
        err instanceof MissingQueueEntityError &&
        err.code === 'MISSING_QUEUE_ENTITY' &&
        err.message.startsWith('PlainCommand is not decorated with @QueueEntity(type)'),
    );
    // An object literal doesn't compile (test/types/commands.ts); typed `object`, it fails at
    // run time.
    const literal: object = { accountId: 'a-1' };
    await assert.rejects(bus.enqueueAndWait(literal), MissingQueueEntityError);
    await assert.rejects(bus.enqueueBulk([new PlainCommand('a-1')]), MissingQueueEntityError);
  });

  it('a @QueueEntity class naming no id property', async () => {
    await assert.rejects(
      bus.enqueue(new StockCommand('s-1')),
      (err: unknown) =>
        err instanceof MissingEntityIdError &&
        err.message.startsWith('StockCommand (entity type `shelf`) has no entity id property'),
    );
  });

  it('defaultEntityId from the entities config names the id property', async () => {
    const result = await bus.enqueueAndWait(new AddItemCommand('c-9', 'sku-1'), {
      timeoutMs: 5000,
    });
    assert.deepEqual(result, { entityId: 'c-9', name: 'AddItemCommand' });
  });

  it('forProcessor with a class that is not a @WorkerProcessor', () => {
    assert.throws(
      () => bus.forProcessor(NotAProcessor),
      (err: unknown) =>
        err instanceof NotAProcessorError &&
        err.message.startsWith('NotAProcessor is not decorated with @WorkerProcessor'),
    );
  });
});
