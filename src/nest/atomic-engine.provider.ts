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
  useFactory: (options: AtomicQueuesModuleOptions) => new AtomicEngine(withNestLogger(options)),
  inject: [ATOMIC_QUEUES_OPTIONS],
};

/** The options with Nest's `Logger` as `logger` when they name none (anything else as it is). */
export function withNestLogger<T extends Partial<AtomicQueuesOptions>>(options: T): T {
  return typeof options === 'object' && options !== null && options.logger === undefined
    ? { ...options, logger: new Logger(LOGGER_CONTEXT) }
    : options;
}
