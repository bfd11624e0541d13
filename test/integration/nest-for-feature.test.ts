/**
 * `AtomicQueuesModule.forFeature({ entities })`: a feature module declares its entity types, which
 * join the root module's engine at bootstrap; a type declared twice stops the start.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Module } from '@nestjs/common';
import type { Job } from 'bullmq';
import {
  AtomicQueuesModule,
  InvalidOptionsError,
  JobCommand,
  JobHandler,
  QueueBus,
  QueueCommand,
  QueueEntity,
  QueueEntityId,
  WorkerProcessor,
} from '../../src';
import { compileApp, engineOf, startApp, type TestApp } from './nest-testing';

@QueueEntity('order')
@JobCommand('order.place')
class PlaceOrderCommand extends QueueCommand<string> {
  constructor(@QueueEntityId() public readonly orderId: string) {
    super();
  }
}

@WorkerProcessor({ entityType: 'order' })
class OrderProcessor {
  @JobHandler('order.place')
  place(job: Job<PlaceOrderCommand>, orderId: string): string {
    return `placed ${job.data.orderId} as ${orderId}`;
  }
}

@Module({
  imports: [AtomicQueuesModule.forFeature({ entities: { order: { idleTimeoutSeconds: 7 } } })],
  providers: [OrderProcessor],
})
class OrdersModule {}

@Module({ imports: [AtomicQueuesModule.forFeature({ entities: ['invoice'] })] })
class InvoicesModule {}

@Module({ imports: [AtomicQueuesModule.forFeature({ entities: ['invoice'] })] })
class BillingModule {}

describe('AtomicQueuesModule.forFeature', () => {
  const apps: TestApp[] = [];
  after(async () => {
    for (const app of apps) await app.close();
  });

  it("merges a feature's entity types, with their settings, into the root's engine", async () => {
    const t = await startApp('for-feature', {
      imports: [OrdersModule, InvoicesModule],
      options: { entities: { account: {} } },
    });
    apps.push(t);
    const engine = engineOf(t);
    assert.deepEqual(engine.entityTypes().sort(), ['account', 'invoice', 'order']);
    assert.equal(engine.entityType('order')?.idleTimeoutMs, 7_000);
    // The feature's processor runs the type's jobs, through the root's QueueBus.
    const placed: string = await t
      .get(QueueBus)
      .enqueueAndWait(new PlaceOrderCommand('o-1'), { timeoutMs: 10_000 });
    assert.equal(placed, 'placed o-1 as o-1');
  });

  it('a type forRoot declares too stops the start, before connecting', async () => {
    const t = await compileApp('for-feature-root-twice', {
      imports: [OrdersModule],
      options: { entities: { order: {} } },
    });
    // Not closed: close() rethrows init()'s error, and nothing was opened or written.
    await assert.rejects(
      t.app.init(),
      (err: unknown) =>
        err instanceof InvalidOptionsError &&
        err.option === 'AtomicQueuesModule.forFeature() entities.order' &&
        err.message ===
          'Entity type `order` is declared by AtomicQueuesModule.forRoot() entities and again by AtomicQueuesModule.forFeature(): declare each entity type in one place.',
    );
    assert.equal(engineOf(t).isStarted(), false);
  });

  it('a type two features declare stops the start', async () => {
    const t = await compileApp('for-feature-twice', { imports: [InvoicesModule, BillingModule] });
    await assert.rejects(
      t.app.init(),
      (err: unknown) =>
        err instanceof InvalidOptionsError &&
        err.option === 'AtomicQueuesModule.forFeature() entities.invoice',
    );
  });

  it('an unknown settings key throws at once, naming it', () => {
    assert.throws(
      () =>
        AtomicQueuesModule.forFeature({
          entities: { order: { idleTimeout: 5 } as unknown as { idleTimeoutSeconds: number } },
        }),
      (err: unknown) =>
        err instanceof InvalidOptionsError &&
        err.option === 'AtomicQueuesModule.forFeature() entities.order.idleTimeout' &&
        /did you mean `idleTimeoutSeconds`/.test(err.message),
    );
  });
});
