/**
 * `npm run bench -- engine`: the engine against plain BullMQ on the same Redis, in one run.
 *
 * Phases (select with --only):
 * - raw:          plain BullMQ Queue + Worker on one queue, pre-filled no-op jobs, Worker
 *                 concurrency 1 and 50;
 * - oneEntity:    as many jobs on one entity, one engine pod;
 * - entities1000: 1,000 entities × 20 jobs, one engine pod per core;
 * - entities10k:  10,000 entities × 1 job on one pod: its connections while it works, then the
 *                 Redis commands per second once every entity went idle and was released.
 * Throughput phases run `rounds` times, interleaved; the JSON keeps the median and every round.
 */
import type { BenchContext, Scenario, ScenarioResult } from '../../lib/scenario';
import { engineParams, OPTIONS } from './params';
import { engineThroughput, entities10k, rawBullmq } from './phases';
import { engineReport, type EngineMeasurements } from './report';

async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const p = engineParams(ctx);
  const m: EngineMeasurements = { rawC1: [], rawC50: [], oneEntity: [], entities1000: [] };
  for (let r = 1; r <= p.rounds; r++) {
    if (p.phases.includes('raw')) {
      m.rawC1.push(await rawBullmq(ctx, p, p.rawConcurrency[0], r));
      m.rawC50.push(await rawBullmq(ctx, p, p.rawConcurrency[1], r));
    }
    if (p.phases.includes('oneEntity'))
      m.oneEntity.push(await engineThroughput(ctx, p, 'oneEntity', 1, p.oneEntityJobs, 1, r));
    if (p.phases.includes('entities1000'))
      m.entities1000.push(
        await engineThroughput(
          ctx,
          p,
          'entities1000',
          p.entities1000Entities,
          p.entities1000JobsPerEntity,
          p.entities1000Pods,
          r,
        ),
      );
  }
  if (p.phases.includes('entities10k')) m.entities10k = await entities10k(ctx, p);
  return engineReport(p, m, ctx.ownRedis);
}

const engine: Scenario = {
  name: 'engine',
  description:
    'engine vs plain BullMQ: throughput on 1 and 1,000 entities, connections and idle load at 10,000',
  options: OPTIONS,
  budgetSeconds: { full: 900, quick: 120 },
  run,
};
export default engine;
