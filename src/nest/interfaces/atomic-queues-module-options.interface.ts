import type { AtomicQueuesOptions, MetricsOptions } from '../../core';

/**
 * Options of `AtomicQueuesModule.forRoot()` / `forRootAsync()`: the engine's options (see
 * AtomicQueuesOptions), except that `metrics` may also be `true`: the metrics in prom-client's
 * default registry (what `register.metrics()` serves). Only `redis` is required.
 */
export interface AtomicQueuesModuleOptions extends Omit<AtomicQueuesOptions, 'metrics'> {
  /**
   * Prometheus metrics (prom-client, an optional peer): `true` for prom-client's default
   * registry, `{ registry }` for your own. @defaultValue off
   */
  metrics?: boolean | MetricsOptions;
}

/** What `forRootAsync({ useClass })` / `{ useExisting }` expects of its options class. */
export interface AtomicQueuesOptionsFactory {
  createAtomicQueuesOptions(): AtomicQueuesModuleOptions | Promise<AtomicQueuesModuleOptions>;
}
