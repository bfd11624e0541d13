/**
 * A runner takes its next jobs while it runs the ones in hand (batchSize 2: b1 and b2 are taken,
 * b1's step takes b3 while b2 runs). The reply of the step that finishes b2 (and takes b4) is
 * lost with its connection: Redis ran it, ioredis resends it, the copy is refused, and the
 * runner reconciles (reclaimOwn). It must keep b3, taken ahead, which it runs next, and put back
 * only what it does not run.
 *
 * Before, the reconcile put the jobs taken ahead back to wait and the runner ran them all the
 * same, while its next take took them again: they ran twice, and the step finishing the second
 * copies was refused (no longer active), so the runner gave the entity up. After an outage this
 * handed a busy entity to another pod (pods-back-from-an-outage); here the last jobs waited for
 * the lease to expire and the sweep.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { waitFor } from '../../support/async';
import { HEARTBEAT_TTL_MS, TYPE, lostReplySuite, scriptCall } from '../fixtures/lost-reply-suite';
import { queueKey } from '../fixtures/queue-state';

const LABELS = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'];

describe('a lost reply while a batch is taken ahead', () => {
  const { prefix, redis, producer, proxy, starts, engineBehindProxy } =
    lostReplySuite('lostReplyTakenAhead');
  before(() => engineBehindProxy('holder', { entities: { [TYPE]: { batchSize: 2 } } }));

  it('each job runs once, in order, without losing the entity', { timeout: 30_000 }, async (t) => {
    const open = starts.hold('b2');
    const isStep = scriptCall('step', 'b');
    // The step that finishes b2 (a step that only takes names no job).
    const lost = proxy().loseReply((command) => isStep(command) && command.includes('b2-job'));
    const t0 = Date.now();
    await producer.enqueueBulk(
      LABELS.map((label) => ({
        type: TYPE,
        entityId: 'b',
        name: 'op',
        data: { label },
        opts: { jobId: `${label}-job` },
      })),
    );
    await starts.started('b2');
    // b3 is taken ahead (active, locked) while b2 runs.
    const active = queueKey(prefix, TYPE, 'b', 'active');
    await waitFor(async () => (await redis.lrange(active, 0, -1)).includes('b3-job'), {
      timeoutMs: 10_000,
      intervalMs: 10,
      message: 'b3 taken ahead',
    });
    open();
    await lost;
    const waited = (await starts.started('b6')) - t0;
    t.diagnostic(`b6 started ${waited} ms after the enqueue`);
    assert.deepEqual(
      LABELS.map((label) => starts.of(label).length),
      [1, 1, 1, 1, 1, 1],
      'each job ran once',
    );
    assert.deepEqual(starts.order(), LABELS, 'in order');
    assert.ok(waited < HEARTBEAT_TTL_MS, `b6 started ${waited} ms later: the entity was lost`);
  });
});
