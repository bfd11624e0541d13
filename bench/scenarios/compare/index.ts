/**
 * `npm run bench -- compare`: one workload through every alternative, same Redis, same run.
 *
 * E entities (20 and 1,000); traffic comes in waves: each wave issues W = 50 concurrent
 * operations per entity and the next starts when all have completed. Each operation is a racy
 * read → 1 ms → write of the entity's counter, so missing exclusion shows as drift. Approaches:
 * atomic-queues (worker pods + a producer-only driver using enqueueAndWait), the atomic-queues 1.x baseline
 * (bench/baselines/seed), Redlock with default and tuned retries (the driver runs the operations
 * itself), groupmq, and raw BullMQ (one queue, concurrency 50: no exclusion, drift expected).
 */
import type { BenchContext, Scenario, ScenarioResult } from '../../lib/scenario';
import { compareParams, OPTIONS } from './params';
import { compareReport } from './report';
import { runApproach, type CompareResult } from './run';

async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const p = compareParams(ctx);
  const results: CompareResult[] = [];
  for (const entities of p.entities)
    for (const approach of p.approaches)
      results.push(await runApproach(ctx, p, approach, entities));
  return compareReport(p, results);
}

const compare: Scenario = {
  name: 'compare',
  description:
    'atomic-queues vs the atomic-queues 1.x baseline, Redlock, groupmq and raw BullMQ on one wave workload',
  options: OPTIONS,
  budgetSeconds: { full: 1_800, quick: 150 },
  run,
};
export default compare;
