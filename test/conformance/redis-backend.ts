import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { AtomicEngine } from '../../src';
import { sleep, waitFor } from '../../support/async';
import { EngineSet, enginePrefix } from '../fixtures/engines';
import { leaseKey } from '../fixtures/queue-state';
import { cleanPrefix, newRedis } from '../helpers/redis';
import {
  TYPE,
  eventsOf,
  recordEvents,
  type Backend,
  type Harness,
  type Recorded,
  type Setup,
} from './backend';

/** How long a check that something does not happen watches a Redis engine. */
const QUIET_MS = 500;
/** How long `until` waits on a Redis engine. */
const UNTIL_MS = 15_000;

/** AtomicEngine on the test Redis (REDIS_URL), each test under a key prefix of its own. */
export const redisBackend: Backend = {
  name: 'Redis engine',
  async open(t: TestContext, setup: Setup): Promise<Harness> {
    const prefix = enginePrefix(`conf${t.name}`.slice(0, 30));
    const engines = new EngineSet(prefix);
    const events: Recorded[] = [];
    const entities = setup.entities ?? { [TYPE]: {} };
    const engine = (podId: string): AtomicEngine => {
      const e = engines.create({ ...setup.options, entities, podId, logger: false });
      for (const type of Object.keys(entities)) e.registerHandler(type, setup.handler);
      recordEvents(e, events);
      return e;
    };
    const main = engine('pod-a');
    t.after(async () => {
      await engines.stopAll();
      const redis = newRedis();
      try {
        await cleanPrefix(redis, prefix);
      } finally {
        await redis.quit();
      }
      assert.equal(engines.errors.length, 0, engines.describeErrors());
    });
    await main.start();

    return {
      engine: main,
      events,
      eventsOf: (event) => eventsOf(events, event),
      until: (condition, what) => waitFor(condition, { timeoutMs: UNTIL_MS, message: what }),
      advance: () => undefined,
      quiet: () => sleep(QUIET_MS),
      now: () => Date.now(),
      async loseLease(type, entityId) {
        // The lease runs out (as when its pod stops renewing it) and another pod claims the
        // entity at once: the claim puts the running job back first, with a larger token.
        const other = engine('pod-b');
        await other.start();
        const redis = newRedis();
        try {
          assert.equal(await redis.del(leaseKey(prefix, type, entityId)), 1, 'a lease to lose');
        } finally {
          await redis.quit();
        }
        assert.equal(await other.claimEntity(type, entityId), true, 'pod-b took the entity');
      },
    };
  },
};
