/**
 * Bad input is refused the same way, before anything is stored: entity ids, types, payloads,
 * job names, job ids, delays and option keys, with the same typed errors and messages.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  EngineStateError,
  InvalidEntityIdError,
  InvalidOptionsError,
  InvalidPayloadError,
  UnknownEntityTypeError,
} from '../../../src';
import { TYPE, type Behaviour, type Harness } from '../backend';

/** The error class and message `promise` rejects with. */
async function refusal(promise: Promise<unknown>): Promise<[string, string]> {
  try {
    await promise;
  } catch (err) {
    return [(err as Error).constructor.name, (err as Error).message];
  }
  throw new Error('expected a refusal');
}

export const badInput: Behaviour = (backend) => {
  it('refuses bad input with the same errors, storing nothing', async (t) => {
    let runs = 0;
    const h: Harness = await backend.open(t, { handler: () => (runs += 1) });
    const e = h.engine;
    const cases: [Promise<unknown>, { name: string }][] = [
      [e.enqueue(TYPE, '', 'op', {}), InvalidEntityIdError],
      [e.enqueue(TYPE, { id: 1 }, 'op', {}), InvalidEntityIdError],
      [e.enqueue(TYPE, 'x'.repeat(513), 'op', {}), InvalidEntityIdError],
      [e.enqueue('nope', 'e1', 'op', {}), UnknownEntityTypeError],
      [e.enqueue(TYPE, 'e1', 'op', { tags: new Map([['a', 1]]) }), InvalidPayloadError],
      [e.enqueue(TYPE, 'e1', 'op', { n: NaN }), InvalidPayloadError],
      [e.enqueue(TYPE, 'e1', 'op', { big: 1n }), InvalidPayloadError],
      [e.enqueue(TYPE, 'e1', '', {}), InvalidOptionsError],
      [e.enqueue(TYPE, 'e1', 'op', {}, { jobId: '42' }), InvalidOptionsError],
      [e.enqueue(TYPE, 'e1', 'op', {}, { delay: -1 }), InvalidOptionsError],
      [e.enqueue(TYPE, 'e1', 'op', {}, { jobid: 'x' } as never), InvalidOptionsError],
      [e.enqueueAndWait(TYPE, 'e1', 'op', {}, { timeout: 5 } as never), InvalidOptionsError],
      [
        e.enqueueBulk([
          { type: TYPE, entityId: 'e1', name: 'op', data: {} },
          { type: TYPE, entityId: 'e1', name: 'op', data: { f: () => 1 } },
        ]),
        InvalidPayloadError,
      ],
      [e.getBacklog(TYPE, null), InvalidEntityIdError],
      [e.waitForJob('nope', 'e1', 'j'), UnknownEntityTypeError],
    ];
    for (const [promise, expected] of cases) {
      const [name, message] = await refusal(promise);
      assert.equal(name, expected.name, message);
    }
    assert.throws(() => e.queueName(TYPE, ''), InvalidEntityIdError);
    const messages = await Promise.all([
      refusal(e.enqueue(TYPE, 'e1', 'op', { tags: new Set([1]) })),
      refusal(e.enqueue(TYPE, 'e1', 'op', {}, { jobid: 'x' } as never)),
    ]);
    assert.deepEqual(messages, [
      [
        'InvalidPayloadError',
        'Cannot enqueue job `op`: $.tags is a Set, which JSON turns into `{}` (send `[...set]`)',
      ],
      [
        'InvalidOptionsError',
        'Unknown option `jobid` in `enqueue() options`; did you mean `jobId`?',
      ],
    ]);
    await h.quiet();
    assert.equal(runs, 0);
    assert.deepEqual(await e.getBacklog(TYPE, 'e1'), {
      waiting: 0,
      active: 0,
      delayed: 0,
      failed: 0,
      completed: 0,
      paused: false,
    });
  });

  it('refuses to enqueue once stopped', async (t) => {
    const h = await backend.open(t, { handler: () => null });
    await h.engine.stop();
    await assert.rejects(h.engine.enqueue(TYPE, 'e1', 'op', {}), (err: unknown) => {
      assert.ok(err instanceof EngineStateError);
      assert.equal(err.message, 'Cannot enqueue: the engine is stopped');
      return true;
    });
  });
};
