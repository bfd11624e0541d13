import type { AtomicQueuesOptions } from '../../core';

/**
 * Options of `AtomicQueuesModule.forRoot()` / `forRootAsync()`: the engine's options, unchanged
 * (see AtomicQueuesOptions). Only `redis` is required.
 */
export type AtomicQueuesModuleOptions = AtomicQueuesOptions;

/** What `forRootAsync({ useClass })` / `{ useExisting }` expects of its options class. */
export interface AtomicQueuesOptionsFactory {
  createAtomicQueuesOptions(): AtomicQueuesModuleOptions | Promise<AtomicQueuesModuleOptions>;
}
