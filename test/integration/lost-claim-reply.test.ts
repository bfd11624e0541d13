/**
 * A claim whose reply is lost with its connection. Redis ran it: the lease is this pod's, under
 * the claim's token, and no other pod will take the entity while it lives. ioredis resends the
 * claim after reconnecting; the pod must start the runner all the same, not leave the entity to
 * the safety sweep (which can act only once the lease expired: a TTL and a sweep later).
 *
 * - A lone enqueue's claim is resent by ioredis: the resent copy finds its own token
 *   (claim-10.lua) and answers "claimed".
 * - In an enqueue of several jobs (a pipeline), ioredis does not resend a command whose reply
 *   was lost after an earlier reply of the same pipeline came back: it rejects it. Every command
 *   of an enqueue is safe to run twice, so the engine sends those again itself.
 *
 * Each job must start before a lease could expire (heartbeatTTL 3 s, cronInterval 1 s).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TYPE, lostReplySuite, scriptCall } from '../fixtures/lost-reply-suite';

describe('a claim whose reply is lost', () => {
  const { proxy, starts, engineBehindProxy } = lostReplySuite('lostClaimReply');

  it('starts the runner when ioredis resends the claim', { timeout: 30_000 }, async (t) => {
    const engine = await engineBehindProxy('podA');
    const lost = proxy().loseReply(scriptCall('claim', 'e1'));
    const t0 = Date.now();
    await engine.enqueue(TYPE, 'e1', 'op', { label: 'e1' });
    await lost;
    await starts.within(t, 'e1', t0);
    await engine.stop();
  });

  it(
    'sends again the claim of a pipeline that ioredis rejected, and starts the runner',
    { timeout: 30_000 },
    async (t) => {
      const engine = await engineBehindProxy('podB');
      const lost = proxy().loseReply(scriptCall('claim', 'e2'));
      const t0 = Date.now();
      const ids = await engine.enqueueBulk(
        ['e2.a', 'e2.b'].map((label) => ({
          type: TYPE,
          entityId: 'e2',
          name: 'op',
          data: { label },
        })),
      );
      await lost;
      assert.equal(ids.length, 2, 'both jobs stored, the enqueue resolved');
      await starts.within(t, 'e2.a', t0);
      await starts.started('e2.b');
      assert.deepEqual([starts.of('e2.a').length, starts.of('e2.b').length], [1, 1], 'each once');
    },
  );
});
