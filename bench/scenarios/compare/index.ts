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
import { compareReport, type CompareFailure } from './report';
import { DeadlineError } from '../../lib/timing';
import { runApproach, type CompareResult } from './run';

async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const p = compareParams(ctx);
  const results: CompareResult[] = [];
  const failures: CompareFailure[] = [];
  for (const entities of p.entities)
    for (const approach of p.approaches) {
      try {
        results.push(await runApproach(ctx, p, approach, entities));
      } catch (err) {
        // The run's own budget is spent: stop here. Otherwise one approach that stalls or whose
        // pod dies must not cost the others their figures: it is reported, and the run fails.
        if (err instanceof DeadlineError) throw err;
        const error = err instanceof Error ? err.message : String(err);
        ctx.log(`${approach}, ${entities} entities: FAILED: ${error}`);
        failures.push({ approach, entities, error });
      }
    }
  return compareReport(p, results, failures);
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
