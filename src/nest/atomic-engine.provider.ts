import type { FactoryProvider } from '@nestjs/common';
import { AtomicEngine, type AtomicQueuesOptions } from '../core';
import { ATOMIC_QUEUES_OPTIONS } from './atomic-queues.module-definition';
import type { AtomicQueuesModuleOptions } from './interfaces/atomic-queues-module-options.interface';

/**
 * The engine, injectable as `AtomicEngine`. Constructing it validates the options, so a bad
 * option stops the application while it is being created, with the InvalidOptionsError message
 * (option, expected value, received value). It connects to Redis only at bootstrap.
 */
export const atomicEngineProvider: FactoryProvider<AtomicEngine> = {
  provide: AtomicEngine,
  useFactory: (options: AtomicQueuesModuleOptions) => new AtomicEngine(engineOptions(options)),
  inject: [ATOMIC_QUEUES_OPTIONS],
};

/** The engine's options from the module's: `metrics: true` is the default registry. */
export function engineOptions({
  metrics,
  ...rest
}: AtomicQueuesModuleOptions): AtomicQueuesOptions {
  if (metrics === undefined || metrics === false) return rest;
  return { ...rest, metrics: metrics === true ? {} : metrics };
}
