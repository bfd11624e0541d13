/** The chaos suite: what `npm run chaos` runs without --scenario, and the reproductions. */
import { BANKING_SCENARIO } from './bad-input';
import { BATCH_SCENARIOS } from './batch-scenarios';
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

/** Targeted bug reproductions: by name only. */
export const EXTRA: Scenario[] = REPRO_SCENARIOS;
