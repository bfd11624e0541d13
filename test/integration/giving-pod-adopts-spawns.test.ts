/**
 * A pod that just handed entities over (rebalancing) leaves the spawn set to the others for a
 * TTL, so that what it gave goes to them. When they are at their fair-share cap, nobody else
 * takes what waits there: new entities' jobs (and entities the others hand over in turn) must not
 * wait out that TTL. The giving pod takes what waits there at once when no other pod has room,
 * and otherwise what they leave waiting past a grace (a quarter of a heartbeat interval, at least
 * 250 ms).
 *
 * podA holds 8 busy entities; podB joins and receives 4. Right after, 9 new entities get work:
 * podB may take about half of everything (its share plus slack), podA must take the rest while
 * it is still giving. Every new entity's first job starts within 2 s of its enqueue (podA gives
 * for a TTL plus a beat: 4 s at heartbeatTTL 3 s; 4.0 s without this, 0.1 s with it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from 'bullmq';
import type { JobContext } from '../../src';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';

const TYPE = 'account';
const HEARTBEAT_TTL_S = 3;
const JOB_MS = 100;
const BUSY = Array.from({ length: 8 }, (_, i) => `busy${i}`);
const NEW = Array.from({ length: 9 }, (_, i) => `new${i}`);
const WAIT_BOUND_MS = 2000;
const workerDefaults = { heartbeatTTL: HEARTBEAT_TTL_S };
const entities = { [TYPE]: { idleTimeoutSeconds: 30 } };

describe('a pod that is giving entities away', () => {
  const { engines } = integrationSuite('givingAdopts');

  it(
    'takes what the others, at their cap, leave in the spawn set',
    { timeout: 90_000 },
    async (t) => {
      const firstStart = new Map<string, { at: number; pod: string }>();
      const create = (podId: string) => {
        const engine = engines.create({
          podId,
          workerDefaults,
          entities,
          rebalance: { enabled: true },
        });
        engine.registerHandler(TYPE, async (_job: Job, ctx: JobContext) => {
          if (!firstStart.has(ctx.entityId))
            firstStart.set(ctx.entityId, { at: Date.now(), pod: ctx.podId });
          await new Promise((resolve) => setTimeout(resolve, JOB_MS));
        });
        return engine;
      };
      const podA = create('podA');
      await podA.start();
      for (const id of BUSY)
        await podA.enqueueBulk(
          Array.from({ length: 600 }, (_, seq) => ({
            type: TYPE,
            entityId: id,
            name: 'op',
            data: { seq },
          })),
        );
      await waitFor(() => podA.getStats().activeEntities === BUSY.length, {
        timeoutMs: 10_000,
        message: () => `podA holds ${podA.getStats().activeEntities}`,
      });

      let movedAt = 0;
      podA.on('entity:released', (e) => {
        if (e.reason === 'rebalanced' && movedAt === 0) movedAt = Date.now();
      });
      const podB = create('podB');
      await podB.start();
      await waitFor(() => podB.getStats().activeEntities >= BUSY.length / 2, {
        timeoutMs: 30_000,
        message: () => `podB holds ${podB.getStats().activeEntities}`,
      });
      t.diagnostic(`podB received its share ${Date.now() - movedAt} ms after the first move`);

      // From podB: it claims what its share allows and offers the rest in the spawn set.
      const enqueuedAt = new Map<string, number>();
      await Promise.all(
        NEW.map(async (id) => {
          enqueuedAt.set(id, Date.now());
          await podB.enqueue(TYPE, id, 'op', { seq: 0 });
        }),
      );
      await waitFor(() => NEW.every((id) => firstStart.has(id)), {
        timeoutMs: 15_000,
        message: () => `started: ${NEW.filter((id) => firstStart.has(id)).join(' ')}`,
      });
      const waits = NEW.map((id) => ({
        id,
        pod: firstStart.get(id)!.pod,
        ms: firstStart.get(id)!.at - enqueuedAt.get(id)!,
      }));
      t.diagnostic(waits.map((w) => `${w.id} on ${w.pod}: ${w.ms} ms`).join(', '));
      assert.ok(
        waits.some((w) => w.pod === 'podA'),
        'podA, giving, took some: podB was at its cap',
      );
      assert.deepEqual(
        waits.filter((w) => w.ms > WAIT_BOUND_MS).map((w) => `${w.id}: ${w.ms} ms`),
        [],
        `new entities whose first job waited over ${WAIT_BOUND_MS} ms`,
      );
    },
  );
});
