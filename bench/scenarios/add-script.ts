/**
 * `npm run bench -- add-script`: what storing a job costs Redis, by itself. The add script a
 * burst of enqueues runs (`addMany-7.lua`, one call per entity per turn) is called directly, 100
 * jobs a call over 50 entities, with the payload, options and awaiting pod of an `enqueueAndWait`
 * in `bench seed`, and events on. Redis's own time per job (`INFO commandstats`, the `evalsha`
 * entry, which includes the commands the script runs) is steady from run to run, where
 * throughput on this machine is not: it shows a change to the script that a whole benchmark's
 * noise would hide.
 */
import { Redis } from 'ioredis';
import { sendAddMany, type AddManyJobArgs } from '../../src/redis/scripts/add';
import { KeyBuilder } from '../../src/redis/keys';
import { defineScripts } from '../../src/redis/script-loader';
import { median } from '../lib/measure';
import { diffSnapshots, usecPerUnit } from '../lib/redis-probe';
import type { BenchContext, Scenario, ScenarioResult } from '../lib/scenario';
import { round } from '../lib/timing';

const PREFIX = 'benchAddScript';
const ENTITIES = 50;
const JOBS_PER_CALL = 100;
const EVENTS_MAX_LEN = 10_000;

const keys = new KeyBuilder(PREFIX);
const entityKeys = Array.from({ length: ENTITIES }, (_, e) =>
  keys.entityKeys(keys.defaultQueueName('account', `e${e}`)),
);

/** One round: `calls` add calls, one after another; Redis µs per job, by command. */
async function measure(ctx: BenchContext, redis: Redis, round_: number, calls: number) {
  const before = await ctx.probe.snapshot();
  for (let c = 0; c < calls; c++) {
    const jobs: AddManyJobArgs[] = Array.from({ length: JOBS_PER_CALL }, (_, i) => ({
      jobId: `r${round_}c${c}j${i}`,
      name: 'DeductStockCommand',
      data: '{"productId":"sku7","orderId":"o12345"}',
      opts: '{"attempts":0}',
      awaitingPod: 'driver-3f2a9c1e',
    }));
    await sendAddMany(redis, entityKeys[c % ENTITIES], EVENTS_MAX_LEN, jobs);
  }
  const delta = diffSnapshots(before, await ctx.probe.snapshot());
  return usecPerUnit(delta, calls * JOBS_PER_CALL, 2);
}

async function run(ctx: BenchContext): Promise<ScenarioResult> {
  if (!ctx.ownRedis)
    throw new Error('add-script measures Redis time by command: run it on its own Redis');
  const rounds = ctx.quick ? 3 : 7;
  const calls = ctx.quick ? 50 : 300;
  const redis = new Redis(ctx.redisUrl, { connectionName: `bench:add-script` });
  defineScripts(redis);
  const perJob: number[] = [];
  let byCommand: Record<string, number> = {};
  try {
    await measure(ctx, redis, -1, calls); // warm-up: script load, key allocation
    for (let r = 0; r < rounds; r++) {
      await ctx.probe.cleanPrefix(PREFIX);
      ctx.deadline.phase = `round ${r + 1}`;
      byCommand = await measure(ctx, redis, r, calls);
      perJob.push(byCommand.evalsha ?? 0);
      ctx.log(`round ${r + 1}: ${perJob[r]} µs of Redis per job`);
    }
  } finally {
    await ctx.probe.cleanPrefix(PREFIX);
    redis.disconnect();
  }
  const usPerJob = round(median(perJob), 2);
  return {
    fields: { redisUsPerJob: usPerJob, redisUsPerJobRounds: perJob, redisUsecPerJob: byCommand },
    params: {
      rounds,
      callsPerRound: calls,
      jobsPerCall: JOBS_PER_CALL,
      entities: ENTITIES,
      eventsMaxLen: EVENTS_MAX_LEN,
    },
    table: [{ metric: 'Redis time per job stored (addMany)', value: usPerJob, unit: 'µs' }],
  };
}

const addScript: Scenario = {
  name: 'add-script',
  description: "Redis's time per job stored by the add script, alone, steady from run to run",
  budgetSeconds: { full: 120, quick: 60 },
  run,
};
export default addScript;
