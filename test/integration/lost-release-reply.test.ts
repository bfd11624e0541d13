/**
 * A release whose reply is lost with its connection. Redis ran it: the lease is gone and the
 * holder's token spent. ioredis resends it; the resent copy must answer as the first one did
 * (includes/spentLease.lua), not "the lease is not yours":
 * - `release-7.lua` (an idle runner lets its entity go): the runner ends as released (no
 *   `lease:lost`), and the entity's next job starts at once;
 * - `relinquish-7.lua` (a stopping pod hands an entity with work back): the pod offers the entity
 *   to the other pods, which take it at once instead of waiting for the safety sweep.
 * Also a runner marking itself idle, in the step that found nothing more to take (`step-4.lua`)
 * or with `idle-8.lua` (with `concurrency` > 1): the runner reconciles, or the resent copy marks
 * it again, and a job from another pod still wakes it.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { EntityTypeOptions } from '../../src';
import { waitFor } from '../../support/async';
import { TYPE, lostReplySuite, scriptCall } from '../fixtures/lost-reply-suite';

/**
 * The step of one entity `id` that finishes a job and asks to mark the holder idle (step-4.lua's
 * header: finished n is its 13th value, idle its 17th, after the pod's 3 arguments).
 */
function idleStep(id: string): (command: string[]) => boolean {
  const isStep = scriptCall('step', id);
  return (command) => {
    if (!isStep(command)) return false;
    const keys = Number(command[2]);
    const header = command.slice(3 + keys + 3);
    return keys === 1 && Number(header[12]) >= 1 && header[16] === '1';
  };
}

describe('a release whose reply is lost', () => {
  const { producer, proxy, starts, engineBehindProxy, engineOnRedis } =
    lostReplySuite('lostRelease');

  it(
    'release: the runner ends released; the next job starts at once',
    { timeout: 30_000 },
    async (t) => {
      const holder = await engineBehindProxy('holder', {
        entities: { [TYPE]: { idleTimeoutSeconds: 1 } },
      });
      const ended: string[] = [];
      holder.on('entity:released', (e: { entityId: string }) =>
        ended.push(`released ${e.entityId}`),
      );
      holder.on('lease:lost', (e: { entityId: string }) => ended.push(`lost ${e.entityId}`));
      const lost = proxy().loseReply(scriptCall('release', 'r'));
      await producer.enqueue(TYPE, 'r', 'op', { label: 'r1' });
      await lost;
      await waitFor(() => ended.length > 0, { message: 'the runner of r ends' });
      assert.deepEqual(ended, ['released r']);

      const t0 = Date.now();
      await producer.enqueue(TYPE, 'r', 'op', { label: 'r2' });
      await starts.within(t, 'r2', t0);
      await holder.stop();
    },
  );

  /**
   * The reply of the call that marks the runner of `id` idle is lost (`match`); a job from another
   * pod then still wakes it.
   */
  const wakesAfterLostIdle = async (
    t: TestContext,
    id: string,
    entity: EntityTypeOptions,
    match: (command: string[]) => boolean,
  ): Promise<void> => {
    const idler = await engineBehindProxy('idler', { entities: { [TYPE]: entity } });
    const lost = proxy().loseReply(match);
    await producer.enqueue(TYPE, id, 'op', { label: `${id}1` });
    await lost;
    const t0 = Date.now();
    await producer.enqueue(TYPE, id, 'op', { label: `${id}2` });
    await starts.within(t, `${id}2`, t0);
    await idler.stop();
  };

  it('idle in its step: a job from another pod still wakes the runner', { timeout: 30_000 }, (t) =>
    wakesAfterLostIdle(t, 's', { idleTimeoutSeconds: 15 }, idleStep('s')),
  );

  it('idle-8.lua: a job from another pod still wakes the runner', { timeout: 30_000 }, (t) =>
    // With concurrency > 1 the lanes' steps never mark the holder idle: idle-8.lua does.
    wakesAfterLostIdle(
      t,
      'i',
      { idleTimeoutSeconds: 15, workerConfig: { concurrency: 2 } },
      scriptCall('idle', 'i'),
    ),
  );

  it(
    'relinquish: another pod takes the entity handed back with work at once',
    { timeout: 30_000 },
    async (t) => {
      // One job per step: h2 stays waiting while h1 runs, so the hand-back has work to offer.
      const leaving = await engineBehindProxy('leaving', {
        entities: { [TYPE]: { batchSize: 1 } },
      });
      const open = starts.hold('h1');
      await producer.enqueueBulk(
        ['h1', 'h2'].map((label) => ({ type: TYPE, entityId: 'h', name: 'op', data: { label } })),
      );
      await starts.started('h1');
      await engineOnRedis('taker');

      const lost = proxy().loseReply(scriptCall('relinquish', 'h'));
      const stopped = leaving.stop();
      const t0 = Date.now();
      open();
      await lost;
      await stopped;
      await starts.within(t, 'h2', t0);
    },
  );
});
