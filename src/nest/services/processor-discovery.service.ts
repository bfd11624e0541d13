import { Inject, Injectable } from '@nestjs/common';
import { AtomicEngine, type QueueEngine } from '../../core';
import { RouteRegistry } from '../registry/route.registry';

/** A `@WorkerProcessor` found at startup. */
export interface DiscoveredProcessor {
  entityType: string;
  processor: string;
  /** Its explicit `@JobHandler` names. */
  jobNames: string[];
  /** Whether it has a `@JobHandler('*')`. */
  wildcard: boolean;
}

/** A CQRS handler of a queued class, found at startup. */
export interface DiscoveredCqrsRoute {
  jobName: string;
  kind: 'command' | 'query';
  messageClass: string;
  entityType?: string;
  handler: string;
}

/**
 * What this application can process, as discovered at startup: processors and their handlers,
 * CQRS routes, the entity types known to the engine, and where a given job would go.
 */
@Injectable()
export class ProcessorDiscoveryService {
  constructor(
    private readonly routes: RouteRegistry,
    @Inject(AtomicEngine) private readonly engine: QueueEngine,
  ) {}

  getProcessors(): DiscoveredProcessor[] {
    return this.routes.processors().map((p) => ({
      entityType: p.entityType,
      processor: p.processorName,
      jobNames: [...p.handlers.keys()],
      wildcard: p.wildcard !== undefined,
    }));
  }

  getCqrsRoutes(): DiscoveredCqrsRoute[] {
    return this.routes.cqrsRoutes().map((r) => ({
      jobName: r.jobName,
      kind: r.kind,
      messageClass: r.messageClass.name,
      entityType: r.entityType,
      handler: r.handlerName,
    }));
  }

  getEntityTypes(): string[] {
    return this.engine.entityTypes();
  }

  /** Which route a job named `jobName` of `entityType` takes: atomic-queues 1.x's priority order. */
  routeOf(entityType: string, jobName: string): 'explicit' | 'cqrs' | 'wildcard' | 'none' {
    return this.routes.resolve(entityType, jobName).via;
  }
}
