/**
 * Routing priority, as atomic-queues 1.x documents it, on a real Nest app and Redis:
 * explicit @JobHandler(name) → CQRS handler of the job's class → @JobHandler('*') → no route,
 * where the job fails with NoRouteError and stays in the failed set.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from 'bullmq';
import {
  CommandHandler,
  CqrsModule,
  QueryHandler,
  type ICommandHandler,
  type IQueryHandler,
} from '@nestjs/cqrs';
import {
  JobFailedError,
  JobHandler,
  JobQuery,
  ProcessorDiscoveryService,
  QueueBus,
  QueueEntity,
  QueueEntityId,
  WorkerManagerService,
  WorkerProcessor,
} from '../../src';
import { waitFor } from '../../support/async';
import { startApp, type TestApp } from './nest-testing';

@QueueEntity('order')
class ShipOrderCommand {
  constructor(
    @QueueEntityId() public readonly orderId: string,
    public readonly carrier: string,
  ) {}
}

@QueueEntity('order')
class PayOrderCommand {
  constructor(
    @QueueEntityId() public readonly orderId: string,
    public readonly amount: number,
  ) {}
  total(): number {
    return this.amount * 2;
  }
}

@QueueEntity('order')
@JobQuery('order.status')
class OrderStatusQuery {
  constructor(@QueueEntityId() public readonly orderId: string) {}
}

@QueueEntity('order')
class ArchiveOrderCommand {
  constructor(@QueueEntityId() public readonly orderId: string) {}
}

@QueueEntity('ticket')
class CloseTicketCommand {
  constructor(@QueueEntityId() public readonly ticketId: string) {}
}

@WorkerProcessor({ entityType: 'order' })
class OrderProcessor {
  // Explicit beats the CQRS handler that also exists for ShipOrderCommand.
  @JobHandler('ShipOrderCommand')
  ship(job: Job, entityId: string) {
    return { via: 'explicit', entityId, data: job.data as unknown };
  }

  @JobHandler('refund')
  refund(job: Job, entityId: string) {
    return { via: 'explicit', entityId, name: job.name };
  }

  @JobHandler('*')
  anything(job: Job, entityId: string) {
    return { via: 'wildcard', entityId, name: job.name };
  }
}

@CommandHandler(ShipOrderCommand)
class ShipOrderHandler implements ICommandHandler<ShipOrderCommand> {
  execute() {
    return Promise.resolve({ via: 'cqrs' });
  }
}

@CommandHandler(PayOrderCommand)
class PayOrderHandler implements ICommandHandler<PayOrderCommand> {
  execute(command: PayOrderCommand) {
    return Promise.resolve({
      via: 'cqrs',
      isInstance: command instanceof PayOrderCommand,
      orderId: command.orderId,
      total: command.total(),
    });
  }
}

@QueryHandler(OrderStatusQuery)
class OrderStatusHandler implements IQueryHandler<OrderStatusQuery> {
  execute(query: OrderStatusQuery) {
    return Promise.resolve({ via: 'cqrs-query', orderId: query.orderId });
  }
}

describe('routing priority', () => {
  let t: TestApp;
  let bus: QueueBus;

  before(async () => {
    t = await startApp('routing-priority', {
      imports: [CqrsModule.forRoot()],
      providers: [OrderProcessor, ShipOrderHandler, PayOrderHandler, OrderStatusHandler],
      // `ticket` is declared by config only: it has no processor and no handler.
      options: { entities: { ticket: {} } },
    });
    bus = t.get(QueueBus);
  });
  after(() => t.close());

  it('an explicit @JobHandler(name) wins over a CQRS handler of the same job', async () => {
    const result = await bus.enqueueAndWait(new ShipOrderCommand('o-1', 'ups'), {
      timeoutMs: 5000,
    });
    assert.deepEqual(result, {
      via: 'explicit',
      entityId: 'o-1',
      data: { orderId: 'o-1', carrier: 'ups' },
    });
  });

  it('then the CQRS handler, given an instance of the command class', async () => {
    const result = await bus.enqueueAndWait(new PayOrderCommand('o-1', 21), { timeoutMs: 5000 });
    assert.deepEqual(result, { via: 'cqrs', isInstance: true, orderId: 'o-1', total: 42 });
  });

  it('queries go through the QueryBus', async () => {
    const result = await bus.execute(new OrderStatusQuery('o-2'), { timeoutMs: 5000 });
    assert.deepEqual(result, { via: 'cqrs-query', orderId: 'o-2' });
  });

  it('then the wildcard, for commands without a handler and raw jobs alike', async () => {
    assert.deepEqual(
      await bus.enqueueAndWait(new ArchiveOrderCommand('o-3'), { timeoutMs: 5000 }),
      { via: 'wildcard', entityId: 'o-3', name: 'ArchiveOrderCommand' },
    );
    const order = bus.forEntity('order', 'o-3');
    assert.deepEqual(await order.enqueueAndWait('whatever', { x: 1 }, { timeoutMs: 5000 }), {
      via: 'wildcard',
      entityId: 'o-3',
      name: 'whatever',
    });
    assert.deepEqual(await order.enqueueAndWait('refund', {}, { timeoutMs: 5000 }), {
      via: 'explicit',
      entityId: 'o-3',
      name: 'refund',
    });
  });

  it('with no route the job fails with NoRouteError and stays in the failed set', async () => {
    await assert.rejects(
      bus.enqueueAndWait(new CloseTicketCommand('t-1'), { timeoutMs: 5000 }),
      (err: unknown) =>
        err instanceof JobFailedError &&
        err.name === 'NoRouteError' &&
        err.message.startsWith('No handler for job `CloseTicketCommand` of ticket `t-1`'),
    );
    const jobId = await bus.enqueue(new CloseTicketCommand('t-1'));
    const manager = t.get(WorkerManagerService);
    await waitFor(async () => (await manager.getBacklog('ticket', 't-1')).failed === 2, {
      message: 'both unroutable jobs in the failed set',
    });
    assert.match(jobId, /\S/);
    assert.ok(
      t.logger.lines.some(
        (l) => l.level === 'error' && l.message.includes('No handler for job `CloseTicketCommand`'),
      ),
      'the failure is logged',
    );
  });

  it('ProcessorDiscoveryService shows the routes it found', () => {
    const discovery = t.get(ProcessorDiscoveryService);
    assert.deepEqual(discovery.getProcessors(), [
      {
        entityType: 'order',
        processor: 'OrderProcessor',
        jobNames: ['ShipOrderCommand', 'refund'],
        wildcard: true,
      },
    ]);
    assert.deepEqual(
      discovery
        .getCqrsRoutes()
        .map((r) => `${r.jobName}:${r.kind}:${r.handler}`)
        .sort(),
      [
        'PayOrderCommand:command:PayOrderHandler',
        'ShipOrderCommand:command:ShipOrderHandler',
        'order.status:query:OrderStatusHandler',
      ],
    );
    assert.equal(discovery.routeOf('order', 'ShipOrderCommand'), 'explicit');
    assert.equal(discovery.routeOf('order', 'PayOrderCommand'), 'cqrs');
    assert.equal(discovery.routeOf('order', 'nope'), 'wildcard');
    assert.equal(discovery.routeOf('ticket', 'nope'), 'none');
    assert.deepEqual(discovery.getEntityTypes().sort(), ['order', 'ticket']);
  });
});
