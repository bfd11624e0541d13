/**
 * The safety sweep claims orphaned entities within the pod's fair share. It looks at every due
 * entry at once; each claim must count against the share while in flight, or every claim of one
 * sweep passes the budget check before any counts, and the pod that sweeps first takes every
 * orphan (held entities are then not moved while work keeps coming).
 *
 * Six entities are orphaned at once: held by a pod that is gone (its leases expire), with a job
 * waiting, known only to the sweep's index. Two live pods, past their warm-up, hold nothing: the
 * first to sweep may claim its share (one each, plus slack), and offers the rest to the other.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from 'bullmq';
import type { JobContext } from '../../src';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';
import { heartbeats, leaseKey } from '../fixtures/queue-state';

const TYPE = 'account';
const ORPHANS = ['o0', 'o1', 'o2', 'o3', 'o4', 'o5'];
const workerDefaults = { heartbeatTTL: 1 };
const entities = { [TYPE]: {} };

describe('the safety sweep', () => {
  const { prefix, engines, redis } = integrationSuite('sweepWithinShare');

  it('claims orphans within its fair share and offers the rest', { timeout: 60_000 }, async (t) => {
    const ranOn = new Map<string, string>();
    const pods = ['podA', 'podB'].map((podId) => {
      const engine = engines.create({ podId, cronInterval: 200, workerDefaults, entities });
      engine.registerHandler(TYPE, (_job: Job, ctx: JobContext) => {
        ranOn.set(ctx.entityId, ctx.podId);
        return Promise.resolve();
      });
      return engine;
    });
    await Promise.all(pods.map((p) => p.start()));
    // Past the start-up warm-up (heartbeatTTL + a heartbeat interval: about 4 beats).
    await Promise.all(pods.map((p) => heartbeats(redis, prefix, p.podId, 6)));

    // A pod that is gone held them: its leases run out in 200 ms; nobody is woken or offered
    // anything. The producer's enqueue writes each entity's index entry, due in a TTL.
    for (const id of ORPHANS) {
      const lease = leaseKey(prefix, TYPE, id);
      await redis.hset(lease, 't', 'gone:1', 'p', 'gone', 'i', '0');
      await redis.pexpire(lease, 200);
    }
    const producer = engines.create({
      podId: 'producer',
      processing: false,
      workerDefaults,
      entities,
    });
    await producer.start();
    await Promise.all(ORPHANS.map((id) => producer.enqueue(TYPE, id, 'op', {})));

    await waitFor(() => ranOn.size === ORPHANS.length, {
      timeoutMs: 15_000,
      message: () => `orphans run: ${[...ranOn.keys()].join(' ')}`,
    });
    const taken = pods.map((p) => [...ranOn].filter(([, pod]) => pod === p.podId).length);
    t.diagnostic(`taken: podA ${taken[0]}, podB ${taken[1]}`);
    assert.ok(
      taken.every((n) => n > 0),
      `one pod took every orphan: podA ${taken[0]}, podB ${taken[1]}`,
    );
  });
});
