/**
 * Payloads that don't serialize (function, cycle, BigInt, a Map or Set that JSON would empty) or
 * are over the size limit (512 KiB by default, `maxPayloadBytes` when set) are rejected with
 * InvalidPayloadError naming the job and the field, before anything is written: each test checks
 * that its document stored no job.
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

/** Every job of doc `docId` in the app's Redis, by state. */
async function storedJobs(app: TestApp, docId: string): Promise<number[]> {
  const backlog = await app.get(WorkerManagerService).getBacklog('doc', docId);
  return [backlog.waiting, backlog.active, backlog.delayed, backlog.completed, backlog.failed];
}

/** Saving doc `docId` with `body` is rejected for `reason`, and stores nothing. */
async function rejectsPayload(app: TestApp, docId: string, body: unknown, reason: RegExp) {
  await assert.rejects(
    app.get(QueueBus).enqueue(new SaveDocCommand(docId, body)),
    (err: unknown) =>
      err instanceof InvalidPayloadError &&
      err.code === 'INVALID_PAYLOAD' &&
      err.message.startsWith('Cannot enqueue job `SaveDocCommand`: ') &&
      reason.test(err.message),
  );
  assert.deepEqual(await storedJobs(app, docId), [0, 0, 0, 0, 0], `no job of ${docId} stored`);
}

describe('payloads', () => {
  let t: TestApp;

  before(async () => {
    t = await startApp('payloads', { providers: [DocProcessor] });
  });
  after(() => t.close());

  it('rejects a function field', () =>
    rejectsPayload(t, 'd-function', { onDone: () => 1 }, /\$\.body\.onDone is a function/));

  it('rejects a cycle', () => {
    const body: Record<string, unknown> = { a: 1 };
    body.self = body;
    return rejectsPayload(t, 'd-cycle', body, /\$\.body\.self refers back to itself \(a cycle\)/);
  });

  it('rejects a BigInt', () =>
    rejectsPayload(
      t,
      'd-bigint',
      { cents: 10n },
      /\$\.body\.cents is a BigInt, which JSON cannot carry/,
    ));

  it('rejects a Map and a Set, which JSON would turn into {}', async () => {
    await rejectsPayload(t, 'd-map', { tags: new Map([['a', 1]]) }, /\$\.body\.tags is a Map/);
    await rejectsPayload(t, 'd-set', [new Set([1])], /\$\.body\[0\] is a Set/);
  });

  it('rejects a payload over the default 512 KiB', () =>
    rejectsPayload(
      t,
      'd-large',
      'x'.repeat(512 * 1024),
      /its JSON is \d+ bytes, over the 524288-byte limit \(maxPayloadBytes\)/,
    ));

  it('rejects a payload over a custom maxPayloadBytes, and accepts one under it', async () => {
    const small = await startApp('payloads-custom', {
      providers: [DocProcessor],
      options: { maxPayloadBytes: 1024 },
    });
    try {
      await rejectsPayload(small, 'd-over', 'x'.repeat(1024), /over the 1024-byte limit/);
      await small.get(QueueBus).enqueue(new SaveDocCommand('d-under', 'x'.repeat(900)));
      const stored = await storedJobs(small, 'd-under');
      assert.equal(
        stored.reduce((sum, n) => sum + n, 0),
        1,
        `the accepted job is stored (positive control for the checks above): ${stored.join(', ')}`,
      );
    } finally {
      await small.close();
    }
  });
});
