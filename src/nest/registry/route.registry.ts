import { Injectable } from '@nestjs/common';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import type { Job } from 'bullmq';
import type { JobContext } from '../../core';
import { DuplicateRouteError } from '../../errors';
import type { ClassType } from '../interfaces/class-type.interface';
import type { WorkerProcessorOptions } from '../interfaces/worker-processor-options.interface';
import type { JobKind } from '../metadata/queue-entity.accessor';

/** A `@JobHandler` method bound to its processor instance. */
export interface ProcessorMethod {
  readonly methodName: string;
  call(job: Job, entityId: string, context: JobContext): unknown;
}

/** A `@WorkerProcessor` and its handlers. */
export interface ProcessorRoutes {
  readonly entityType: string;
  readonly processorName: string;
  readonly options: WorkerProcessorOptions;
  readonly handlers: ReadonlyMap<string, ProcessorMethod>;
  readonly wildcard?: ProcessorMethod;
}

/** A `@CommandHandler` / `@QueryHandler` of a class that travels through the queues. */
export interface CqrsRoute {
  readonly jobName: string;
  readonly messageClass: ClassType;
  readonly kind: JobKind;
  /** The class's `@QueueEntity` type, when it has one. */
  readonly entityType?: string;
  readonly handlerName: string;
  readonly handler: InstanceWrapper;
}

/** Where one job goes, in atomic-queues 1.x's priority order. */
export type ResolvedRoute =
  | {
      readonly via: 'explicit';
      readonly processor: ProcessorRoutes;
      readonly method: ProcessorMethod;
    }
  | { readonly via: 'cqrs'; readonly route: CqrsRoute }
  | {
      readonly via: 'wildcard';
      readonly processor: ProcessorRoutes;
      readonly method: ProcessorMethod;
    }
  | { readonly via: 'none' };

/** The routes of this application, filled once at startup by the ProcessorExplorer. */
@Injectable()
export class RouteRegistry {
  private readonly byType = new Map<string, ProcessorRoutes>();
  private readonly byJobName = new Map<string, CqrsRoute>();

  addProcessor(routes: ProcessorRoutes): void {
    const existing = this.byType.get(routes.entityType);
    if (existing)
      throw new DuplicateRouteError(`Entity type \`${routes.entityType}\``, [
        existing.processorName,
        routes.processorName,
      ]);
    this.byType.set(routes.entityType, routes);
  }

  addCqrsRoute(route: CqrsRoute): void {
    const existing = this.byJobName.get(route.jobName);
    if (existing)
      throw new DuplicateRouteError(`Job \`${route.jobName}\``, [
        existing.handlerName,
        route.handlerName,
      ]);
    this.byJobName.set(route.jobName, route);
  }

  processors(): ProcessorRoutes[] {
    return [...this.byType.values()];
  }

  processorFor(entityType: string): ProcessorRoutes | undefined {
    return this.byType.get(entityType);
  }

  cqrsRoutes(): CqrsRoute[] {
    return [...this.byJobName.values()];
  }

  /** Explicit `@JobHandler(name)` → CQRS handler of the job's class → `@JobHandler('*')` → none. */
  resolve(entityType: string, jobName: string): ResolvedRoute {
    const processor = this.byType.get(entityType);
    const explicit = processor?.handlers.get(jobName);
    if (processor && explicit) return { via: 'explicit', processor, method: explicit };
    const route = this.byJobName.get(jobName);
    if (route) return { via: 'cqrs', route };
    if (processor?.wildcard) return { via: 'wildcard', processor, method: processor.wildcard };
    return { via: 'none' };
  }
}
