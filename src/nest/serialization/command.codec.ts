import { MissingQueueEntityError } from '../../errors';
import type { ClassType } from '../interfaces/class-type.interface';
import { QueueEntityAccessor, type QueueEntityMetadata } from '../metadata/queue-entity.accessor';
import { jobNames } from '../registry/job-name.registry';

/** How a command instance travels: its class's registered name and entity type. */
export interface CommandDescriptor extends QueueEntityMetadata {
  readonly cls: ClassType;
  readonly jobName: string;
}

/**
 * Turns command/query instances into job payloads and back.
 * - Out: the instance's own enumerable fields, as JSON (the engine checks it serializes).
 * - In: `Object.create(Class.prototype)` + the fields, so handlers get `instanceof` and every
 *   field. The constructor does not run again.
 */
export class CommandCodec {
  /** The class, job name and entity type of a command; throws MissingQueueEntityError. */
  static describe(command: object): CommandDescriptor {
    const cls =
      typeof command === 'object' && command !== null
        ? (Object.getPrototypeOf(command) as { constructor?: ClassType } | null)?.constructor
        : undefined;
    const entity = cls ? QueueEntityAccessor.entity(cls) : undefined;
    const jobName = cls ? jobNames.nameOf(cls) : undefined;
    if (!cls || !entity || jobName === undefined)
      throw new MissingQueueEntityError(
        cls && cls !== Object && cls.name ? cls.name : describeValue(command),
      );
    return { cls, jobName, ...entity };
  }

  static payload(command: object): Record<string, unknown> {
    return { ...command };
  }

  static revive<T extends object>(cls: ClassType<T>, data: unknown): T {
    const instance = Object.create(cls.prototype as object) as T;
    if (typeof data === 'object' && data !== null && !Array.isArray(data))
      Object.assign(instance, data);
    return instance;
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return `A ${typeof value}`;
  return 'A plain object';
}
