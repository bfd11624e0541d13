import { Injectable, applyDecorators } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { checkEntityTypeKeys } from '../../core';
import { InvalidOptionsError } from '../../errors';
import type { ClassType } from '../interfaces/class-type.interface';
import type { WorkerProcessorOptions } from '../interfaces/worker-processor-options.interface';

/** The discoverable decorator behind `@WorkerProcessor`; its KEY finds processors at startup. */
export const WorkerProcessorDiscoverable =
  DiscoveryService.createDecorator<WorkerProcessorOptions>();

/**
 * Makes an (injectable) provider the processor of one entity type: its `@JobHandler(name)`
 * methods run that type's jobs by name, and `@JobHandler('*')` catches the rest after CQRS
 * routing. The other options set the type's behaviour, over `entities[entityType]`.
 * One processor per entity type. Register it as a provider of a module, like any service.
 * An unknown option key throws InvalidOptionsError as the class is defined.
 */
export function WorkerProcessor(options: WorkerProcessorOptions) {
  if (
    typeof options !== 'object' ||
    options === null ||
    typeof options.entityType !== 'string' ||
    options.entityType === ''
  )
    throw new InvalidOptionsError(
      '@WorkerProcessor() options',
      'an object with a non-empty `entityType`',
      options,
    );
  // Unknown keys are typos: refused as the class is defined, named after it.
  const checkKeys: ClassDecorator = (target) =>
    checkEntityTypeKeys(options, `@WorkerProcessor(${target.name})`, ['entityType']);
  return applyDecorators(checkKeys, WorkerProcessorDiscoverable(options), Injectable());
}

/** The `@WorkerProcessor` options of a class, if it has them. */
export function workerProcessorOptions(cls: ClassType): WorkerProcessorOptions | undefined {
  return Reflect.getMetadata(WorkerProcessorDiscoverable.KEY, cls) as
    WorkerProcessorOptions | undefined;
}
