/**
 * G1: a pod whose lease was taken over while its handler ran must not complete that job, and must
 * report it as 'lease:lost' (not as an error). The lease's expiry is simulated by deleting the
 * lease key — what Redis does when a partitioned pod's heartbeats stop arriving — with a long
 * heartbeatTTL, so that the old owner's handler returns before its own heartbeat notices: its
 * moveToCompleted is then the first thing to meet the new owner's lock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from 'bullmq';
import type { AtomicEngine, JobContext } from '../../src';
import { gate, waitFor, type Gate } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';
import { leaseKey, queueKey } from '../fixtures/queue-state';

const TYPE = 'account';
const ENTITY = 'acct1';

describe('lease taken over while the handler runs', () => {
  const { prefix, engines, redis } = integrationSuite('leaseLostBeforeAck');

  it(
    'the old owner does not complete the job and emits lease:lost; the new owner completes it',
    { timeout: 30_000 },
    async () => {
      const gates = new Map<string, Gate>();
      const started: string[] = [];
      const events: string[] = [];
      const pod = (podId: string): AtomicEngine => {
        const engine = engines.create({
          podId,
          workerDefaults: { heartbeatTTL: 30 },
          entities: { [TYPE]: { idleTimeoutSeconds: 30 } },
        });
        engine.registerHandler(TYPE, async (job: Job, ctx: JobContext) => {
          const label = (job.data as { label: string }).label;
          const key = `${ctx.podId}:${label}`;
          started.push(`${key}#${ctx.fencingToken}`);
          const g = gates.get(key) ?? gate();
          gates.set(key, g);
          await g.wait;
          return `${label} by ${ctx.podId}`;
        });
        for (const name of [
          'job:completed',
          'job:failed',
          'lease:lost',
          'entity:released',
          'entity:claimed',
        ] as const)
          engine.on(name, (e: { jobId?: string; reason?: string }) =>
            events.push(
              `${podId} ${name}${e.jobId ? ` ${e.jobId}` : ''}${e.reason ? ` (${e.reason})` : ''}`,
            ),
          );
        return engine;
      };
      const open = (key: string): void => {
        const g = gates.get(key) ?? gate();
        gates.set(key, g);
        g.open();
      };

      const a = pod('podA');
      await a.start();
      const j = await a.enqueue(TYPE, ENTITY, 'op', { label: 'J' });
      const tokenOf = (run: string): number | undefined => {
        const entry = started.find((e) => e.startsWith(`${run}#`));
        return entry === undefined ? undefined : Number(entry.split('#')[1]);
      };
      await waitFor(() => tokenOf('podA:J') !== undefined, { message: 'podA runs J' });

      // The lease runs out while podA is cut off; podB gets the next job and takes the entity over.
      assert.equal(await redis.del(leaseKey(prefix, TYPE, ENTITY)), 1);
      const b = pod('podB');
      await b.start();
      const k = await b.enqueue(TYPE, ENTITY, 'op', { label: 'K' });
      await waitFor(() => tokenOf('podB:J') !== undefined, {
        message: 'podB took over and runs J again',
      });
      assert.ok(tokenOf('podB:J')! > tokenOf('podA:J')!, 'with a larger fencing token');

      // podA's handler returns now, long before its next heartbeat.
      open('podA:J');
      await waitFor(
        () =>
          events.some(
            (e) => e.startsWith('podA lease:lost') || e.startsWith('podA entity:released'),
          ),
        {
          message: 'podA gave up the entity',
        },
      );
      assert.ok(!events.includes(`podA job:completed ${j}`), 'podA did not complete J');
      assert.equal(
        await redis.zscore(queueKey(prefix, TYPE, ENTITY, 'completed'), j),
        null,
        'J is not completed yet',
      );

      open('podB:J');
      open('podB:K');
      await waitFor(() => events.includes(`podB job:completed ${k}`), {
        message: 'podB completed J and K',
      });
      assert.equal(
        await redis.hget(queueKey(prefix, TYPE, ENTITY, j), 'returnvalue'),
        JSON.stringify('J by podB'),
      );
      assert.deepEqual(
        events.filter((e) => e.includes('job:')),
        [`podB job:completed ${j}`, `podB job:completed ${k}`],
        'J and K completed once each, by podB',
      );
      assert.ok(
        events.some((e) => e.startsWith('podA lease:lost')),
        `podA reports lease:lost; its events: ${events.filter((e) => e.startsWith('podA')).join(', ')}; ` +
          `errors: ${engines.describeErrors()}`,
      );
      assert.equal(engines.errors.length, 0, `no error events:\n${engines.describeErrors()}`);
    },
  );
});
