import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AtomicEngine, InMemoryEngine, type Clock, type RedisConnection } from '../core';
import { engineOptions, withNestLogger } from './atomic-engine.provider';
import {
  ATOMIC_QUEUES_OPTIONS,
  AtomicQueuesConfigurableModule,
  type ATOMIC_QUEUES_ASYNC_OPTIONS_TYPE,
  type ATOMIC_QUEUES_OPTIONS_TYPE,
} from './atomic-queues.module-definition';
import { atomicQueuesProviders, atomicQueuesServices } from './atomic-queues.module';
import type { AtomicQueuesModuleOptions } from './interfaces/atomic-queues-module-options.interface';

/**
 * Options of `AtomicQueuesTestingModule.forRoot()`: AtomicQueuesModule's (so an app's options
 * can be passed as they are), with `redis` optional (never connected to), a `clock` for the
 * in-memory engine, and `isGlobal`.
 */
export interface AtomicQueuesTestingModuleOptions extends Omit<AtomicQueuesModuleOptions, 'redis'> {
  /** Not used (there is no Redis); accepted so that an app's options can be passed as they are. */
  redis?: RedisConnection;
  /** The engine's time (a ManualClock to step through delays and backoffs). @defaultValue the system clock */
  clock?: Clock;
  /** Registers the module globally, as AtomicQueuesModule does. @defaultValue true */
  isGlobal?: boolean;
}

/** Options of `AtomicQueuesTestingModule.forRootAsync()`: AtomicQueuesModule's. */
export type AtomicQueuesTestingModuleAsyncOptions = typeof ATOMIC_QUEUES_ASYNC_OPTIONS_TYPE;

/** The in-memory engine of the module's options; `metrics` is accepted and left out. */
function inMemoryEngine(options: AtomicQueuesTestingModuleOptions): InMemoryEngine {
  return new InMemoryEngine(
    withNestLogger(engineOptions({ ...options, metrics: false } as AtomicQueuesModuleOptions)),
  );
}

/**
 * AtomicQueuesModule with the in-memory engine of `atomic-queues/testing` instead of Redis, for
 * `Test.createTestingModule`: the same `forRoot` / `forRootAsync` options, the same discovery of
 * `@WorkerProcessor`s and CQRS handlers, the same routing, QueueBus and services,
 * `currentJobContext()` in handlers. The engine is injectable as `AtomicEngine` (what the
 * services and your code use) and as `InMemoryEngine` (the same object, with the helpers for
 * tests: `waitIdle`, `drain`, `runs`, ...). It starts at the application's bootstrap
 * (`await moduleRef.init()`) and stops at `close()`.
 *
 * ```ts
 * Test.createTestingModule({
 *   imports: [CqrsModule, AtomicQueuesTestingModule.forRoot({ entities: { account: {} } })],
 *   providers: [WithdrawHandler, AccountRepository],
 * })
 * ```
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    { provide: AtomicEngine, useFactory: inMemoryEngine, inject: [ATOMIC_QUEUES_OPTIONS] },
    { provide: InMemoryEngine, useExisting: AtomicEngine },
    ...atomicQueuesProviders,
  ],
  exports: [AtomicEngine, InMemoryEngine, ...atomicQueuesServices],
})
export class AtomicQueuesTestingModule extends AtomicQueuesConfigurableModule {
  static forRoot(options: AtomicQueuesTestingModuleOptions = {}): DynamicModule {
    return super.forRoot(options as typeof ATOMIC_QUEUES_OPTIONS_TYPE);
  }

  static forRootAsync(options: AtomicQueuesTestingModuleAsyncOptions): DynamicModule {
    return super.forRootAsync(options);
  }
}
