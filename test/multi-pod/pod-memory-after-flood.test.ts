/**
 * A pod's memory follows the entities it holds and works on, not every entity it has seen: a
 * pod process runs a flood of 12,000 one-job entities (each gets a handle, a BullMQ queue object
 * and a runner) and releases them when idle; after a full garbage collection its heap is back
 * within a bound (20 MB) of where it started. `npm run bench -- memory` measures the RSS.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../../support/async';
import { multiPodSuite } from '../fixtures/multi-pod-suite';

const TYPE = 'account';
const ENTITIES = 12_000;
const CHUNK = 250;
/** Heap a pod may keep after the flood: its bounded caches, not a handle per entity seen. */
const MAX_GROWTH_MB = 20;

describe('a pod after a flood of entities', () => {
  const { fleet, engines } = multiPodSuite('podMemoryAfterFlood');

  it('keeps no memory per entity once they are released', { timeout: 240_000 }, async (t) => {
    const [pod] = await fleet.startMany([
      { podId: 'pod1', delayMs: 0, heartbeatTTL: 3, cronInterval: 200, idleTimeoutSeconds: 1 },
    ]);
    const heapUsedMb = async (): Promise<number> => {
      const reply = await pod.request({ type: 'memory' });
      assert.ok(reply.ok, reply.error?.message);
      return (reply.value as NodeJS.MemoryUsage).heapUsed / 2 ** 20;
    };
    const producer = engines.create({
      processing: false,
      podId: 'producer',
      // Thousands of new entities a second: a loaded machine may confirm a chunk slowly.
      enqueueTimeoutMs: 60_000,
      entities: { [TYPE]: {} },
    });
    await producer.start();
    const before = await heapUsedMb();

    for (let at = 0; at < ENTITIES; at += CHUNK)
      await producer.enqueueBulk(
        Array.from({ length: CHUNK }, (_, i) => ({
          type: TYPE,
          entityId: `f${at + i}`,
          name: 'increment',
          data: { seq: 0 },
        })),
      );
    await waitFor(
      async () => {
        const reply = await pod.request({ type: 'stats' });
        const { stats } = reply.value as {
          stats: { jobsCompleted: number; activeEntities: number };
        };
        return stats.jobsCompleted >= ENTITIES && stats.activeEntities === 0;
      },
      { timeoutMs: 180_000, intervalMs: 250, message: `${ENTITIES} entities run and released` },
    );
    const after = await heapUsedMb();
    t.diagnostic(`heap used ${before.toFixed(1)} MB before, ${after.toFixed(1)} MB after`);
    assert.ok(
      after - before < MAX_GROWTH_MB,
      `the pod kept ${(after - before).toFixed(1)} MB after ${ENTITIES} entities were released`,
    );
    assert.deepEqual(engines.errors, [], engines.describeErrors());
    fleet.passed();
  });
});
