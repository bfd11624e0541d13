import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { AtomicEngine, type QueueEngine, type EntityTypeOptions } from '../core';
import { InvalidOptionsError } from '../errors';
import { LOGGER_CONTEXT } from './atomic-queues.constants';
import { CqrsBridge } from './cqrs/cqrs.bridge';
import { ProcessorExplorer } from './discovery/processor.explorer';
import type { WorkerProcessorOptions } from './interfaces/worker-processor-options.interface';
import { RouteRegistry } from './registry/route.registry';
import { JobRouter } from './routing/job.router';

/**
 * Owns the engine's lifecycle inside the application:
 * - bootstrap: discover processors and CQRS routes, declare the entity types of `forFeature()`
 *   modules and those of the routes, give every type the router as its handler, start the engine
 *   (connect, heartbeat, take work);
 * - shutdown (`app.close()`, or SIGTERM with `enableShutdownHooks()`): stop the engine
 *   gracefully, so each entity's running job finishes, leases are released and connections
 *   close. It starts at `onModuleDestroy`, before the `beforeApplicationShutdown` /
 *   `onApplicationShutdown` hooks in which libraries usually close the resources jobs use.
 * When Redis can't be reached, bootstrap (`app.init()`, `app.listen()`) fails with the engine's
 * RedisConnectionError within `startTimeoutMs`. The engine logs its background errors and Redis
 * outages itself, through Nest's Logger (see atomicEngineProvider).
 */
@Injectable()
export class AtomicQueuesOrchestrator
  implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown
{
  private readonly logger = new Logger(LOGGER_CONTEXT);
  private stopping?: Promise<void>;

  constructor(
    @Inject(AtomicEngine) private readonly engine: QueueEngine,
    private readonly explorer: ProcessorExplorer,
    private readonly routes: RouteRegistry,
    private readonly router: JobRouter,
    private readonly cqrs: CqrsBridge,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.declareFeatures();
    this.explorer.explore();
    const cqrsRoutes = this.routes.cqrsRoutes();
    if (cqrsRoutes.length > 0) await this.cqrs.connect(cqrsRoutes[0].handlerName);
    for (const processor of this.routes.processors()) {
      try {
        this.engine.registerEntityType(processor.entityType, typeOptions(processor.options));
      } catch (err) {
        if (!(err instanceof InvalidOptionsError)) throw err;
        throw new InvalidOptionsError(
          `@WorkerProcessor(${processor.processorName}).${err.option.replace(/^entities\.[^.]+\./, '')}`,
          err.expected,
          err.received,
        );
      }
    }
    for (const route of cqrsRoutes) {
      if (route.entityType !== undefined && !this.engine.entityType(route.entityType))
        this.engine.registerEntityType(route.entityType);
    }
    for (const type of this.engine.entityTypes())
      this.engine.registerHandler(type, (job, context) => this.router.dispatch(type, job, context));
    await this.engine.start();
    this.logger.log(
      `Pod ${this.engine.podId} started; entity types: ${this.engine.entityTypes().join(', ') || '(none)'}`,
    );
  }

  /**
   * The entity types of the `forFeature()` modules, merged into the engine's. A type declared
   * twice (by `forRoot`'s `entities` or another `forFeature`) stops the start: its settings
   * would depend on the order the modules load in.
   */
  private declareFeatures(): void {
    const declaredBy = new Map(
      this.engine.entityTypes().map((type) => [type, 'AtomicQueuesModule.forRoot() entities']),
    );
    for (const feature of this.explorer.features()) {
      for (const [type, options] of feature.entities) {
        const other = declaredBy.get(type);
        const option = `AtomicQueuesModule.forFeature() entities.${type}`;
        if (other !== undefined)
          throw new InvalidOptionsError(
            option,
            'an entity type declared once',
            type,
            `Entity type \`${type}\` is declared by ${other} and again by AtomicQueuesModule.forFeature(): declare each entity type in one place.`,
          );
        declaredBy.set(type, 'AtomicQueuesModule.forFeature()');
        this.engine.registerEntityType(type, options);
      }
    }
  }

  onModuleDestroy(): Promise<void> {
    return this.stop();
  }

  onApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  private stop(): Promise<void> {
    this.stopping ??= this.engine.stop();
    return this.stopping;
  }
}

/** A processor's options minus `entityType` and unset keys (which would hide `entities` config). */
function typeOptions(options: WorkerProcessorOptions): EntityTypeOptions {
  const { entityType: _entityType, ...rest } = options;
  return Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined));
}
