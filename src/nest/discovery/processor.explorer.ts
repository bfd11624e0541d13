import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import type { Job } from 'bullmq';
import type { JobContext } from '../../core';
import { DuplicateRouteError, InvalidOptionsError } from '../../errors';
import { WILDCARD_JOB } from '../atomic-queues.constants';
import { CQRS_COMMAND_HANDLER_METADATA, CQRS_QUERY_HANDLER_METADATA } from '../cqrs/cqrs.constants';
import { jobHandlerNames } from '../decorators/job-handler.decorator';
import { WorkerProcessorDiscoverable } from '../decorators/worker-processor.decorator';
import { AtomicQueuesFeature } from '../feature/atomic-queues-feature';
import type { ClassType } from '../interfaces/class-type.interface';
import { QueueEntityAccessor, type JobKind } from '../metadata/queue-entity.accessor';
import { jobNames } from '../registry/job-name.registry';
import { RouteRegistry, type ProcessorMethod } from '../registry/route.registry';

type Method = (job: Job, entityId: string, context: JobContext) => unknown;

/**
 * Finds, once at startup, the `@WorkerProcessor` providers with their `@JobHandler` methods and
 * the `@CommandHandler` / `@QueryHandler` providers of classes that travel through the queues,
 * and records them in the RouteRegistry. Uses DiscoveryService only: no framework internals.
 */
@Injectable()
export class ProcessorExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly routes: RouteRegistry,
  ) {}

  explore(): void {
    jobNames.validate();
    for (const wrapper of unique(
      this.discovery.getProviders({ metadataKey: WorkerProcessorDiscoverable.KEY }),
    ))
      this.addProcessor(wrapper);
    for (const wrapper of unique(this.discovery.getProviders())) this.addCqrsHandler(wrapper);
  }

  /** The entity types of every `AtomicQueuesModule.forFeature()` in the application. */
  features(): AtomicQueuesFeature[] {
    return this.discovery
      .getProviders()
      .map((w) => w.instance as unknown)
      .filter((i): i is AtomicQueuesFeature => i instanceof AtomicQueuesFeature);
  }

  private addProcessor(wrapper: InstanceWrapper): void {
    const options = this.discovery.getMetadataByDecorator(WorkerProcessorDiscoverable, wrapper);
    const instance = wrapper.instance as Record<string, unknown> | undefined;
    if (!options) return;
    if (!wrapper.isDependencyTreeStatic() || !instance)
      throw new InvalidOptionsError(
        `the scope of @WorkerProcessor ${wrapper.name}`,
        'the default singleton scope (request-scoped processors are not supported)',
        'a request or transient scope',
      );
    const handlers = new Map<string, ProcessorMethod>();
    let wildcard: ProcessorMethod | undefined;
    const prototype = Object.getPrototypeOf(instance) as object;
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const fn = instance[methodName];
      for (const jobName of jobHandlerNames(fn)) {
        const method: ProcessorMethod = {
          methodName,
          call: (job, entityId, context) => (fn as Method).call(instance, job, entityId, context),
        };
        const taken = jobName === WILDCARD_JOB ? wildcard : handlers.get(jobName);
        if (taken)
          throw new DuplicateRouteError(
            `Job \`${jobName}\` of @WorkerProcessor ${String(wrapper.name)}`,
            [taken.methodName, methodName],
          );
        if (jobName === WILDCARD_JOB) wildcard = method;
        else handlers.set(jobName, method);
      }
    }
    this.routes.addProcessor({
      entityType: options.entityType,
      processorName: String(wrapper.name),
      options,
      handlers,
      wildcard,
    });
  }

  private addCqrsHandler(wrapper: InstanceWrapper): void {
    const handlerClass = wrapper.metatype;
    if (typeof handlerClass !== 'function') return;
    const found: [JobKind, unknown][] = [
      ['command', Reflect.getMetadata(CQRS_COMMAND_HANDLER_METADATA, handlerClass)],
      ['query', Reflect.getMetadata(CQRS_QUERY_HANDLER_METADATA, handlerClass)],
    ];
    for (const [kind, target] of found) {
      if (typeof target !== 'function') continue;
      const messageClass = target as ClassType;
      const jobName = jobNames.nameOf(messageClass);
      if (jobName === undefined) continue; // a plain CQRS message, not one of ours
      this.routes.addCqrsRoute({
        jobName,
        messageClass,
        kind,
        entityType: QueueEntityAccessor.entity(messageClass)?.entityType,
        handlerName: handlerClass.name,
        handler: wrapper,
      });
    }
  }
}

/** One wrapper per provider class (a provider listed in several modules shows up in each). */
function unique(wrappers: InstanceWrapper[]): InstanceWrapper[] {
  const seen = new Set<unknown>();
  return wrappers.filter((w) => {
    const key = w.metatype ?? w;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
