import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AtomicEngine, InMemoryEngine, type InMemoryEngineOptions } from '../core';
import { withNestLogger } from './atomic-engine.provider';
import { ATOMIC_QUEUES_OPTIONS } from './atomic-queues.module-definition';
import { atomicQueuesProviders, atomicQueuesServices } from './atomic-queues.module';

/** Options of `AtomicQueuesTestingModule.forRoot()`: the in-memory engine's, and `isGlobal`. */
export interface AtomicQueuesTestingModuleOptions extends InMemoryEngineOptions {
  /** Registers the module globally, as AtomicQueuesModule does. @defaultValue true */
  isGlobal?: boolean;
}

/**
 * AtomicQueuesModule with the in-memory engine of `atomic-queues/testing` instead of Redis, for
 * `Test.createTestingModule`: the same discovery of `@WorkerProcessor`s and CQRS handlers, the
 * same routing, QueueBus and services, `currentJobContext()` in handlers. The engine is
 * injectable as `AtomicEngine` (what the services and your code use) and as `InMemoryEngine`
 * (the same object, with the helpers for tests: `waitIdle`, `drain`, `runs`, ...). It starts at
 * the application's bootstrap (`await moduleRef.init()`) and stops at `close()`.
 *
 * ```ts
 * Test.createTestingModule({
 *   imports: [CqrsModule, AtomicQueuesTestingModule.forRoot({ entities: { account: {} } })],
 *   providers: [WithdrawHandler, AccountRepository],
 * })
 * ```
 */
@Module({})
export class AtomicQueuesTestingModule {
  static forRoot(options: AtomicQueuesTestingModuleOptions = {}): DynamicModule {
    const { isGlobal = true, ...engineOptions } = options;
    return {
      module: AtomicQueuesTestingModule,
      global: isGlobal,
      imports: [DiscoveryModule],
      providers: [
        { provide: ATOMIC_QUEUES_OPTIONS, useValue: engineOptions },
        {
          provide: AtomicEngine,
          useFactory: () => new InMemoryEngine(withNestLogger(engineOptions)),
        },
        { provide: InMemoryEngine, useExisting: AtomicEngine },
        ...atomicQueuesProviders,
      ],
      exports: [AtomicEngine, InMemoryEngine, ...atomicQueuesServices],
    };
  }
}
