import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { InMemoryEngine, ManualClock } from '../../src/testing';
import { sleep } from '../../support/async';
import {
  TYPE,
  eventsOf,
  recordEvents,
  type Backend,
  type Harness,
  type Recorded,
  type Setup,
} from './backend';

/** How long `until` lets handlers that wait for the test run before giving up, in real time. */
const UNTIL_MS = 15_000;
/** How long `quiet` waits in real time for an engine whose handlers wait for the test. */
const QUIET_MS = 50;

/** The in-memory engine of atomic-queues/testing, on a ManualClock. */
export const memoryBackend: Backend = {
  name: 'in-memory engine',
  async open(t: TestContext, setup: Setup): Promise<Harness> {
    const clock = new ManualClock(1_000_000);
    const entities = setup.entities ?? { [TYPE]: {} };
    const engine = new InMemoryEngine({ ...setup.options, entities, clock, logger: false });
    for (const type of Object.keys(entities)) engine.registerHandler(type, setup.handler);
    const events: Recorded[] = [];
    const errors: string[] = [];
    recordEvents(engine, events);
    engine.on('error', (error, context) => errors.push(`${context}: ${error.message}`));
    t.after(async () => {
      await engine.stop();
      assert.deepEqual(errors, []);
    });
    await engine.start();

    return {
      engine,
      events,
      eventsOf: (event) => eventsOf(events, event),
      async until(condition, what) {
        const deadline = Date.now() + UNTIL_MS;
        for (;;) {
          if (await condition()) return;
          // Idle, or handlers still waiting for something the test gives them (a gate).
          const idle = await Promise.race([
            engine.waitIdle().then(() => true),
            sleep(5).then(() => false),
          ]);
          if (await condition()) return;
          if (idle) {
            const next = clock.nextAt();
            if (next === undefined)
              throw new Error(`Never happened: ${what} (the engine is idle, no timer pending)`);
            clock.advance(next - clock.now());
          } else if (Date.now() > deadline) {
            throw new Error(`Not within ${UNTIL_MS} ms: ${what}`);
          }
        }
      },
      advance: (ms) => clock.advance(ms),
      // Idle, or (handlers wait for the test) what settles within a moment of real time.
      quiet: () => Promise.race([engine.waitIdle(), sleep(QUIET_MS)]),
      now: () => clock.now(),
      loseLease(type, entityId) {
        assert.equal(engine.simulateLeaseLoss(type, entityId), true, 'a lease to lose');
        return Promise.resolve();
      },
    };
  },
};
