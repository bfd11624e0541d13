/**
 * A blocking pop whose reply is lost with its connection. The pod's dispatcher waits with
 * `BZPOPMIN wake:<pod> spawn`; Redis popped a member and the reply never arrived, so the member
 * is gone from Redis and the pod never heard of it. ioredis resends the pop, which finds nothing.
 *
 * - A wake-up (an idle entity held here got a job from another pod): the dispatcher sees that the
 *   blocking connection closed during the pop and wakes every idle runner of the pod, so the
 *   runner finds its job after one blocking wait instead of its idle timeout (15 s here).
 * - A spawn request (a free entity with work): nobody knows it was offered; the safety sweep
 *   claims it once its index entry is due, within heartbeatTTL + cronInterval of the enqueue.
 */
import { describe, it } from 'node:test';
import { waitFor } from '../../support/async';
import { hasValue, isCommand } from '../helpers/fault-proxy';
import { respText, type RespValue } from '../helpers/resp';
import {
  CRON_INTERVAL_MS,
  HEARTBEAT_TTL_MS,
  TYPE,
  lostReplySuite,
} from '../fixtures/lost-reply-suite';
import { leaseKey } from '../fixtures/queue-state';

/** Matches a BZPOPMIN that popped entity `id` from the set whose key ends with `set`. */
function popOf(id: string, set: 'spawn' | `wake:${string}`) {
  const bzpopmin = isCommand('bzpopmin');
  return (command: string[], reply: RespValue): boolean =>
    bzpopmin(command) &&
    hasValue(reply) &&
    Array.isArray(reply) &&
    respText(reply[0]).endsWith(set) &&
    respText(reply[1]).includes(`"${id}"`);
}

describe('a blocking pop whose reply is lost', () => {
  const { prefix, redis, producer, proxy, starts, engineBehindProxy } =
    lostReplySuite('lostWakeUp');

  it('wakes the idle runner whose wake-up it took', { timeout: 30_000 }, async (t) => {
    await engineBehindProxy('holder', { entities: { [TYPE]: { idleTimeoutSeconds: 15 } } });
    await producer.enqueue(TYPE, 'w', 'op', { label: 'w1' });
    await starts.started('w1');
    await waitFor(async () => (await redis.hget(leaseKey(prefix, TYPE, 'w'), 'i')) === '1', {
      message: 'the holder idles with the lease',
    });

    const lost = proxy().loseReply(popOf('w', 'wake:holder'));
    const t0 = Date.now();
    await producer.enqueue(TYPE, 'w', 'op', { label: 'w2' });
    await lost;
    await starts.within(t, 'w2', t0);
  });

  it('wakes the idle runners whose wake-ups a lost drain took', { timeout: 30_000 }, async (t) => {
    // The holder holds `w` (above) and `x`, both idle.
    await producer.enqueue(TYPE, 'x', 'op', { label: 'x1' });
    await starts.started('x1');
    await waitFor(async () => (await redis.hget(leaseKey(prefix, TYPE, 'x'), 'i')) === '1', {
      message: 'the holder idles with the lease of x',
    });
    // One batch wakes both: the blocking pop takes `w`, the drain that follows it takes `x`.
    const drain = isCommand('zpopmin');
    const lost = proxy().loseReply(
      (command, reply) =>
        drain(command) &&
        command[1].endsWith('wake:holder') &&
        Array.isArray(reply) &&
        reply.some((member) => respText(member).includes('"x"')),
    );
    const t0 = Date.now();
    await producer.enqueueBulk(
      ['w', 'x'].map((id) => ({ type: TYPE, entityId: id, name: 'op', data: { label: `${id}3` } })),
    );
    await lost;
    await starts.within(t, 'x3', t0);
    await starts.within(t, 'w3', t0);
  });

  it(
    'leaves a lost spawn request to the sweep, within heartbeatTTL + cronInterval',
    { timeout: 30_000 },
    async (t) => {
      const lost = proxy().loseReply(popOf('s', 'spawn'));
      const t0 = Date.now();
      await producer.enqueue(TYPE, 's', 'op', { label: 's1' });
      await lost;
      // The sweep runs every cronInterval: allow it a moment to inspect and claim.
      await starts.within(t, 's1', t0, HEARTBEAT_TTL_MS + CRON_INTERVAL_MS + 500);
    },
  );
});
