/**
 * An entity idle past `idleTimeoutSeconds` is released (its lease key deleted); the next job
 * claims it again with a higher fencing token — on the same pod or on another one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from 'bullmq';
import type { AtomicEngine, JobContext } from '../../src';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';
import { leaseKey } from '../fixtures/queue-state';

const TYPE = 'account';
const ENTITY = 'acct1';

interface Seen {
  pod: string;
  token: number;
}

describe('idle release and re-claim', () => {
  const { prefix, engines, redis } = integrationSuite('idleReleaseReclaim');

  function pod(podId: string, claims: Seen[], releases: Seen[]): AtomicEngine {
    const engine = engines.create({ podId, entities: { [TYPE]: { idleTimeoutSeconds: 0.2 } } });
    engine.registerHandler(TYPE, (_job: Job, ctx: JobContext) => ({
      pod: ctx.podId,
      token: ctx.fencingToken,
    }));
    engine.on('entity:claimed', (e: { fencingToken: number }) =>
      claims.push({ pod: podId, token: e.fencingToken }),
    );
    engine.on('entity:released', (e: { fencingToken: number; reason: string }) => {
      if (e.reason === 'released') releases.push({ pod: podId, token: e.fencingToken });
    });
    return engine;
  }

  it(
    'releases an idle entity and re-claims it with a higher fencing token',
    { timeout: 30_000 },
    async () => {
      const claims: Seen[] = [];
      const releases: Seen[] = [];
      const a = pod('podA', claims, releases);
      await a.start();
      const lease = leaseKey(prefix, TYPE, ENTITY);

      const first = (await a.enqueueAndWait(TYPE, ENTITY, 'op', {})) as Seen;
      assert.equal(
        await redis.exists(lease),
        1,
        'held right after the job (idle, not yet released)',
      );
      await waitFor(() => releases.length === 1, { message: 'released after the idle timeout' });
      assert.equal(await redis.exists(lease), 0, 'the lease key is gone');
      assert.deepEqual(a.activeEntities(), []);

      const second = (await a.enqueueAndWait(TYPE, ENTITY, 'op', {})) as Seen;
      assert.equal(second.pod, 'podA');
      assert.ok(second.token > first.token, `token ${second.token} > ${first.token}`);
      await waitFor(() => releases.length === 2, { message: 'released again' });
      await a.stop();

      // Another pod: the fencing counter lives with the entity, not with the pod.
      const b = pod('podB', claims, releases);
      await b.start();
      const third = (await b.enqueueAndWait(TYPE, ENTITY, 'op', {})) as Seen;
      assert.equal(third.pod, 'podB');
      assert.ok(third.token > second.token, `token ${third.token} > ${second.token}`);
      assert.deepEqual(
        claims.map((c) => c.token),
        [first.token, second.token, third.token],
        'one claim per acquisition, tokens increasing',
      );
      assert.equal(engines.errors.length, 0, engines.describeErrors());
    },
  );
});
