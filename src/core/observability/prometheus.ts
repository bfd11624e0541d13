import { InvalidOptionsError } from '../../errors';

/**
 * A prom-client `Registry`, as the engine uses it. Declared here rather than imported, so that
 * the package's types do not need prom-client (an optional peer) to be installed.
 */
export interface PrometheusRegistry {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
  metrics(): Promise<string>;
}

/** The part of prom-client's `Counter` the engine uses. */
export interface PromCounter {
  inc(labels: Record<string, string>, value?: number): void;
  inc(value?: number): void;
}

/** The part of prom-client's `Gauge` the engine uses. */
export interface PromGauge {
  set(labels: Record<string, string>, value: number): void;
  reset(): void;
}

interface MetricConfig {
  name: string;
  help: string;
  labelNames?: readonly string[];
  registers: PrometheusRegistry[];
}

/** The prom-client module, as far as the engine uses it. */
export interface PromClient {
  register: PrometheusRegistry;
  Counter: new (config: MetricConfig & { collect?(this: PromCounter): void }) => PromCounter;
  Gauge: new (config: MetricConfig & { collect(this: PromGauge): void }) => PromGauge;
}

/**
 * Loads prom-client, only when metrics are asked for: an engine without the `metrics` option
 * never touches it. Throws InvalidOptionsError (naming `metrics`, whose value was `given`) when
 * it is not installed.
 */
export function loadPromClient(given: unknown): PromClient {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer, loaded on use
    return require('prom-client') as PromClient;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw new InvalidOptionsError(
      'metrics',
      'left out while prom-client is not installed (`npm install prom-client` to use it)',
      given,
    );
  }
}

/** True for what looks like a prom-client Registry (of any copy of prom-client). */
export function isPrometheusRegistry(value: unknown): value is PrometheusRegistry {
  const r = value as Partial<Record<keyof PrometheusRegistry, unknown>> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.registerMetric === 'function' &&
    typeof r.getSingleMetric === 'function' &&
    typeof r.metrics === 'function'
  );
}
