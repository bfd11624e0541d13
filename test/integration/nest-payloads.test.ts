/**
 * Payloads that don't serialize (function, cycle, BigInt, a Map or Set that JSON would empty) or
 * are over the size limit (512 KiB by default, `maxPayloadBytes` when set) are rejected with
 * InvalidPayloadError naming the job and the field, before anything is written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  InvalidPayloadError,
  JobHandler,
  QueueBus,
  QueueEntity,
  QueueEntityId,
  WorkerManagerService,
  WorkerProcessor,
} from '../../src';
import { startApp, type TestApp } from './nest-testing';

@QueueEntity('doc')
class SaveDocCommand {
  constructor(
    @QueueEntityId() public readonly docId: string,
    public readonly body: unknown,
  ) {}
}

@WorkerProcessor({ entityType: 'doc' })
class DocProcessor {
  @JobHandler('*')
  any(): void {}
}

function rejectsPayload(bus: QueueBus, body: unknown, reason: RegExp) {
  return assert.rejects(
    bus.enqueue(new SaveDocCommand('d-1', body)),
    (err: unknown) =>
      err instanceof InvalidPayloadError &&
      err.code === 'INVALID_PAYLOAD' &&
      err.message.startsWith('Cannot enqueue job `SaveDocCommand`: ') &&
      reason.test(err.message),
  );
}

describe('payloads', () => {
  let t: TestApp;
  let bus: QueueBus;

  before(async () => {
    t = await startApp('payloads', { providers: [DocProcessor] });
    bus = t.get(QueueBus);
  });
  after(() => t.close());

  it('rejects a function field', () =>
    rejectsPayload(bus, { onDone: () => 1 }, /\$\.body\.onDone is a function/));

  it('rejects a cycle', () => {
    const body: Record<string, unknown> = { a: 1 };
    body.self = body;
    return rejectsPayload(bus, body, /\$\.body\.self refers back to itself \(a cycle\)/);
  });

  it('rejects a BigInt', () =>
    rejectsPayload(bus, { cents: 10n }, /\$\.body\.cents is a BigInt, which JSON cannot carry/));

  it('rejects a Map and a Set, which JSON would turn into {}', async () => {
    await rejectsPayload(bus, { tags: new Map([['a', 1]]) }, /\$\.body\.tags is a Map/);
    await rejectsPayload(bus, [new Set([1])], /\$\.body\[0\] is a Set/);
  });

  it('rejects a payload over the default 512 KiB', () =>
    rejectsPayload(
      bus,
      'x'.repeat(512 * 1024),
      /its JSON is \d+ bytes, over the 524288-byte limit \(maxPayloadBytes\)/,
    ));

  it('rejects a payload over a custom maxPayloadBytes, and accepts one under it', async () => {
    const small = await startApp('payloads-custom', {
      providers: [DocProcessor],
      options: { maxPayloadBytes: 1024 },
    });
    try {
      const smallBus = small.get(QueueBus);
      await rejectsPayload(smallBus, 'x'.repeat(1024), /over the 1024-byte limit/);
      await smallBus.enqueue(new SaveDocCommand('d-2', 'x'.repeat(900)));
    } finally {
      await small.close();
    }
  });

  it('stored none of the rejected jobs', async () => {
    const backlog = await t.get(WorkerManagerService).getBacklog('doc', 'd-1');
    assert.deepEqual(
      [backlog.waiting, backlog.active, backlog.delayed, backlog.completed, backlog.failed],
      [0, 0, 0, 0, 0],
    );
  });
});
