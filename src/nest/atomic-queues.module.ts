import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AtomicEngine } from '../core';
import { atomicEngineProvider } from './atomic-engine.provider';
import { AtomicQueuesConfigurableModule } from './atomic-queues.module-definition';
import { AtomicQueuesOrchestrator } from './atomic-queues.orchestrator';
import { CqrsBridge } from './cqrs/cqrs.bridge';
import { featureModule } from './feature/atomic-queues-feature.module';
import { ProcessorExplorer } from './discovery/processor.explorer';
import { AtomicQueuesHealthIndicator } from './health/atomic-queues-health.indicator';
import type { AtomicQueuesFeatureOptions } from './interfaces/atomic-queues-feature-options.interface';
import { QueueBus } from './queue-bus.service';
import { RouteRegistry } from './registry/route.registry';
import { JobRouter } from './routing/job.router';
import { ProcessorDiscoveryService } from './services/processor-discovery.service';
import { QueueEventsManagerService } from './services/queue-events-manager.service';
import { SpawnQueueService } from './services/spawn-queue.service';
import { WorkerManagerService } from './services/worker-manager.service';

const services = [
  QueueBus,
  WorkerManagerService,
  SpawnQueueService,
  QueueEventsManagerService,
  ProcessorDiscoveryService,
  AtomicQueuesHealthIndicator,
];

/** The services the module exports beside the engine. */
export const atomicQueuesServices: readonly Provider[] = services;

/**
 * Everything the module provides but the engine: discovery, routing, the lifecycle and the
 * services. AtomicQueuesTestingModule provides the same around the in-memory engine.
 */
export const atomicQueuesProviders: readonly Provider[] = [
  RouteRegistry,
  ProcessorExplorer,
  CqrsBridge,
  JobRouter,
  AtomicQueuesOrchestrator,
  ...services,
];

/**
 * Per-entity sequential processing for the application, on the framework-free AtomicEngine.
 *
 * ```ts
 * AtomicQueuesModule.forRoot({ redis: { host: 'localhost', port: 6379 }, keyPrefix: 'myapp' })
 * AtomicQueuesModule.forRootAsync({ inject: [ConfigService], useFactory: (c) => ({ redis: c.get('REDIS_URL') }) })
 * AtomicQueuesModule.forFeature({ entities: { order: { idleTimeoutSeconds: 60 } } }) // in a feature module
 * ```
 * Global by default (`isGlobal: false` to scope it). Exports QueueBus, the services, the
 * `@nestjs/terminus` indicator AtomicQueuesHealthIndicator and the engine itself (`AtomicEngine`).
 */
@Module({
  imports: [DiscoveryModule],
  providers: [atomicEngineProvider, ...atomicQueuesProviders],
  exports: [AtomicEngine, ...services],
})
export class AtomicQueuesModule extends AtomicQueuesConfigurableModule {
  /**
   * Declares entity types from a feature module: names (`['order']`) or `{ [type]: settings }`
   * as in `forRoot`'s `entities`. They join the root's engine at bootstrap; a type declared
   * twice (by `forRoot` or another `forFeature`) fails the start with InvalidOptionsError.
   * An unknown settings key throws InvalidOptionsError at once.
   */
  static forFeature(options: AtomicQueuesFeatureOptions): DynamicModule {
    return featureModule(options);
  }
}
