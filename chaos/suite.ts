/** The chaos suite: what `npm run chaos` runs without --scenario, and the reproductions. */
import { BANKING_SCENARIO } from './bad-input';
import { BATCH_SCENARIOS } from './batch-scenarios';
import { MASTER_FAILOVER, MASTER_FAILOVER_DURABLE } from './cluster-scenarios';
import { FENCING_SCENARIOS } from './fencing-scenarios';
import { REPRO_SCENARIOS } from './repro';
import { STOCK_SCENARIOS, type Scenario } from './scenarios';

/** The suite (what runs without --scenario), in the order of their numbers. */
export const SCENARIOS: Scenario[] = [
  ...STOCK_SCENARIOS,
  BANKING_SCENARIO,
  ...FENCING_SCENARIOS,
  ...BATCH_SCENARIOS,
].sort((a, b) => a.number - b.number);

/** By name only (or `--cluster`): targeted bug reproductions, the Cluster's failovers. */
export const EXTRA: Scenario[] = [...REPRO_SCENARIOS, MASTER_FAILOVER, MASTER_FAILOVER_DURABLE];
