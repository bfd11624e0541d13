/**
 * G1 exclusion and G2 order across real processes: 3 pods run 50 entities × 100 jobs that a
 * producer-only engine enqueues in order, in bursts (so entities go idle, are released and
 * re-claimed, often by another pod). The handler is a racy read → wait → write counter, so any
 * two executions of one entity at once show up as overlapping intervals and as counter drift.
 * A second case runs the same handler on plain BullMQ Workers (no exclusion) and checks that
 * the checker does catch it.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { cleanPrefix, newRedis, redisUrl } from '../helpers/redis';
import { EngineSet, enginePrefix } from '../fixtures/engines';
import {
  acknowledgements,
  analyze,
  byEntity,
  completedCount,
  completions,
  describeReport,
  executionsOf,
  readLedger,
  waitForLedger,
} from '../fixtures/ledger';
import { PodFleet } from '../fixtures/pods';
import { allQueueCounts, readCounters } from '../fixtures/queue-state';
import { mapLimit, sleep } from '../../support/async';
import { seededRandom, testSeed } from '../../support/random';

const TYPE = 'account';

function entityIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `e${String(i).padStart(2, '0')}`);
}

describe('exclusion and order across pods', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  function setUp(name: string): {
    prefix: string;
    fleet: PodFleet;
    engines: EngineSet;
    redis: Redis;
  } {
    const prefix = enginePrefix(name);
    const fleet = new PodFleet(prefix, redisUrl());
    const engines = new EngineSet(prefix);
    const redis = newRedis();
    cleanups.push(async () => {
      await fleet.cleanup();
      await engines.stopAll();
      await cleanPrefix(redis, prefix);
      await redis.quit();
    });
    return { prefix, fleet, engines, redis };
  }

  it(
    '3 pods × 50 entities × 100 jobs: no overlap, strict order, exact counters, each job once',
    { timeout: 180_000 },
    async (t) => {
      const ENTITIES = 50;
      const JOBS = 100;
      const BURSTS = 4;
      const seed = testSeed();
      t.diagnostic(`seed ${seed}`);
      const random = seededRandom(seed);
      const { prefix, fleet, engines, redis } = setUp('exclusion-order');

      await fleet.startMany(
        [1, 2, 3].map((i) => ({
          podId: `pod${i}`,
          delayMs: 2,
          heartbeatTTL: 3,
          idleTimeoutSeconds: 0.2,
          cronInterval: 1000,
        })),
      );
      const producer = engines.create({
        processing: false,
        podId: 'producer',
        entities: { [TYPE]: {} },
      });
      await producer.start();

      const ids = entityIds(ENTITIES);
      // Each burst ends with an enqueueAndWait; then a random pause around the idle timeout, so
      // entities are often released and re-claimed (by any pod) between bursts.
      const gaps = ids.map(() => Array.from({ length: BURSTS }, () => Math.floor(random() * 500)));
      const started = Date.now();
      await mapLimit(ids, ENTITIES, async (entity, e) => {
        const perBurst = JOBS / BURSTS;
        const job = (seq: number) => ({
          type: TYPE,
          entityId: entity,
          name: 'increment',
          data: { seq },
        });
        for (let b = 0; b < BURSTS; b++) {
          const first = b * perBurst;
          await producer.enqueueBulk(
            Array.from({ length: perBurst - 1 }, (_, k) => job(first + k)),
          );
          const last = job(first + perBurst - 1);
          await producer.enqueueAndWait(TYPE, entity, last.name, last.data, { timeoutMs: 60_000 });
          await sleep(gaps[e][b]);
        }
      });
      t.diagnostic(`enqueued ${ENTITIES * JOBS} jobs in ${Date.now() - started} ms`);

      await waitForLedger(
        () => fleet.ledgerFiles,
        (r) => completedCount(r) >= ENTITIES * JOBS,
        {
          timeoutMs: 120_000,
          progress: (r) => `${completedCount(r)} of ${ENTITIES * JOBS} jobs completed`,
        },
      );
      t.diagnostic(`all jobs completed ${Date.now() - started} ms after the first enqueue`);
      const exits = await fleet.stopAll();
      assert.deepEqual(
        exits.map((e) => e.code),
        [0, 0, 0],
        'every pod stops gracefully with exit code 0',
      );

      const records = readLedger(fleet.ledgerFiles);
      const executions = executionsOf(records);
      const completed = completions(records);
      const counters = await readCounters(redis, prefix, ids);
      const report = analyze(executions, { counters, completed, acks: acknowledgements(records) });
      const summary = describeReport(report);
      t.diagnostic(summary);

      assert.equal(
        report.overlaps.length,
        0,
        `two executions of one entity ran at once\n${summary}`,
      );
      assert.equal(report.inversions.length, 0, `jobs ran out of enqueue order\n${summary}`);
      assert.equal(report.fencing.length, 0, `fencing tokens not monotonic\n${summary}`);
      assert.equal(report.drift.length, 0, `counters drifted\n${summary}`);

      const groups = byEntity(executions);
      for (const entity of ids) {
        const seqs = (groups.get(entity) ?? []).map((e) => e.seq);
        assert.deepEqual(
          seqs,
          Array.from({ length: JOBS }, (_, i) => i),
          `${entity} ran each of its jobs exactly once, in enqueue order`,
        );
        assert.equal(counters.get(entity), JOBS, `${entity}'s counter`);
        const jobs = completed.get(entity) ?? new Map<string, number>();
        assert.equal(jobs.size, JOBS, `${entity}: distinct completed jobs`);
        for (const [jobId, count] of jobs)
          assert.equal(count, 1, `${entity} job ${jobId} reported completed ${count} times`);
      }
      assert.ok(
        executions.every((e) => e.finished && e.committed === true),
        'every execution finished and its fenced write was accepted',
      );

      const queues = await allQueueCounts(redis, prefix, TYPE, ids);
      for (const [entity, c] of queues) {
        assert.deepEqual(
          c,
          { wait: 0, active: 0, delayed: 0, prioritized: 0, completed: JOBS, failed: 0 },
          `${entity}'s BullMQ queue holds every job as completed`,
        );
      }

      const errors = records.filter((r) => r.event === 'error');
      assert.deepEqual(
        errors.map((r) => `${r.podId} (${r.context}): ${r.message}`),
        [],
        'no pod reported an engine error',
      );
      assert.equal(engines.errors.length, 0, engines.describeErrors());

      // Coverage, not guarantees: the run must have exercised hand-overs between pods.
      const pods = new Set(executions.map((e) => e.podId));
      let handoffs = 0;
      for (const group of groups.values())
        for (let i = 1; i < group.length; i++)
          if (group[i].podId !== group[i - 1].podId) handoffs++;
      t.diagnostic(
        `${pods.size} pods ran jobs; ${handoffs} hand-overs of an entity between pods; ` +
          `${records.filter((r) => r.event === 'claimed').length} claims`,
      );
      assert.ok(pods.size >= 2, `entities spread over the pods (ran on: ${[...pods].join(', ')})`);
      fleet.passed();
    },
  );

  it(
    'the checker catches overlaps when pods run one entity without exclusion (bypass)',
    { timeout: 120_000 },
    async (t) => {
      const ENTITIES = 10;
      const JOBS = 40;
      const { prefix, fleet, engines, redis } = setUp('exclusion-bypass');
      const ids = entityIds(ENTITIES);
      await fleet.startMany(
        [1, 2, 3].map((i) => ({
          podId: `bypass${i}`,
          delayMs: 5,
          bypass: { entities: ids, concurrency: 5 },
        })),
      );
      const producer = engines.create({
        processing: false,
        podId: 'producer',
        entities: { [TYPE]: {} },
      });
      await producer.start();
      await producer.enqueueBulk(
        ids.flatMap((entity) =>
          Array.from({ length: JOBS }, (_, seq) => ({
            type: TYPE,
            entityId: entity,
            name: 'increment',
            data: { seq },
          })),
        ),
      );
      const records = await waitForLedger(
        () => fleet.ledgerFiles,
        (r) => completedCount(r) >= ENTITIES * JOBS,
        {
          timeoutMs: 90_000,
          progress: (r) => `${completedCount(r)} of ${ENTITIES * JOBS} jobs completed`,
        },
      );
      await fleet.stopAll();

      const executions = executionsOf(records);
      const counters = await readCounters(redis, prefix, ids);
      const report = analyze(executions, {
        counters,
        completed: completions(records),
        acks: acknowledgements(records),
      });
      t.diagnostic(describeReport(report));
      assert.ok(
        report.overlaps.length > 0 || report.drift.length > 0,
        `the checker must see the missing exclusion\n${describeReport(report)}`,
      );
      fleet.passed();
    },
  );
});
