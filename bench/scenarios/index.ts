import type { Scenario } from '../lib/scenario';

/**
 * Every scenario `npm run bench -- <name>` can run. Adding one: write
 * bench/scenarios/<name>.ts with a default-exported `Scenario`, and add its line here.
 */
export const SCENARIOS: Readonly<Record<string, () => Promise<Scenario>>> = {
  engine: () => import('./engine').then((m) => m.default),
  compare: () => import('./compare').then((m) => m.default),
  latency: () => import('./latency').then((m) => m.default),
  seed: () => import('./seed').then((m) => m.default),
  'seed-floor': () => import('./seed-floor').then((m) => m.default),
  'add-script': () => import('./add-script').then((m) => m.default),
  memory: () => import('./memory').then((m) => m.default),
  'metrics-listeners': () => import('./metrics-listeners').then((m) => m.default),
  cluster: () => import('./cluster').then((m) => m.default),
  rebalance: () => import('./rebalance').then((m) => m.default),
};
