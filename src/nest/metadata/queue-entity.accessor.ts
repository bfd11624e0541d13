import 'reflect-metadata';
import { DuplicateEntityIdError } from '../../errors';
import {
  JOB_KIND_METADATA,
  QUEUE_ENTITY_ID_METADATA,
  QUEUE_ENTITY_METADATA,
} from '../atomic-queues.constants';
import type { ClassType } from '../interfaces/class-type.interface';

/** What `@QueueEntity(type, idProperty?)` records on a class. */
export interface QueueEntityMetadata {
  readonly entityType: string;
  readonly idProperty?: string;
}

/** Whether a class is routed to the CommandBus or the QueryBus when both could apply. */
export type JobKind = 'command' | 'query';

/** Reads and writes the metadata of the command/query decorators. No Nest, no state. */
export class QueueEntityAccessor {
  /** The class's own `@QueueEntity` (a subclass must carry its own). */
  static entity(cls: ClassType): QueueEntityMetadata | undefined {
    return Reflect.getOwnMetadata(QUEUE_ENTITY_METADATA, cls) as QueueEntityMetadata | undefined;
  }

  static setEntity(cls: ClassType, metadata: QueueEntityMetadata): void {
    Reflect.defineMetadata(QUEUE_ENTITY_METADATA, metadata, cls);
  }

  /** The property marked with `@QueueEntityId`, on the class or a parent class. */
  static idProperty(cls: ClassType): string | undefined {
    return Reflect.getMetadata(QUEUE_ENTITY_ID_METADATA, cls) as string | undefined;
  }

  /** Marks the id property; a class gets one. */
  static setIdProperty(cls: ClassType, property: string): void {
    const existing = Reflect.getOwnMetadata(QUEUE_ENTITY_ID_METADATA, cls) as string | undefined;
    if (existing !== undefined) throw new DuplicateEntityIdError(cls.name, existing, property);
    Reflect.defineMetadata(QUEUE_ENTITY_ID_METADATA, property, cls);
  }

  static kind(cls: ClassType): JobKind | undefined {
    return Reflect.getOwnMetadata(JOB_KIND_METADATA, cls) as JobKind | undefined;
  }

  static setKind(cls: ClassType, kind: JobKind): void {
    Reflect.defineMetadata(JOB_KIND_METADATA, kind, cls);
  }
}
