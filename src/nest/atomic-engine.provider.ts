import { Logger, type FactoryProvider } from '@nestjs/common';
import { AtomicEngine, type AtomicQueuesOptions } from '../core';
import { LOGGER_CONTEXT } from './atomic-queues.constants';
import { ATOMIC_QUEUES_OPTIONS } from './atomic-queues.module-definition';
import type { AtomicQueuesModuleOptions } from './interfaces/atomic-queues-module-options.interface';

/**
 * The engine, injectable as `AtomicEngine`. Constructing it validates the options, so a bad
 * option stops the application while it is being created, with the InvalidOptionsError message
 * (option, expected value, received value). It connects to Redis only at bootstrap. It logs
 * through Nest's `Logger` (context `AtomicQueues`) unless the options name another `logger`.
 */
export const atomicEngineProvider: FactoryProvider<AtomicEngine> = {
  provide: AtomicEngine,
  useFactory: (options: AtomicQueuesModuleOptions) =>
    new AtomicEngine(withNestLogger(engineOptions(options))),
  inject: [ATOMIC_QUEUES_OPTIONS],
};

/** The options with Nest's `Logger` as `logger` when they name none (anything else as it is). */
export function withNestLogger<T extends Partial<AtomicQueuesOptions>>(options: T): T {
  return typeof options === 'object' && options !== null && options.logger === undefined
    ? { ...options, logger: new Logger(LOGGER_CONTEXT) }
    : options;
}

/** The engine's options from the module's: `metrics: true` is the default registry. */
export function engineOptions(options: AtomicQueuesModuleOptions): AtomicQueuesOptions {
  // Anything but an object goes on as it is: the engine's option check names what is wrong.
  if (typeof options !== 'object' || options === null) return options;
  const { metrics, ...rest } = options;
  if (metrics === undefined || metrics === false) return rest;
  return { ...rest, metrics: metrics === true ? {} : metrics };
}
