import { DuplicateEntityIdError, InvalidOptionsError } from '../../errors';
import type { ClassType } from '../interfaces/class-type.interface';
import { QueueEntityAccessor } from '../metadata/queue-entity.accessor';
import { jobNames } from '../registry/job-name.registry';

const TYPE_NAME = /^[A-Za-z0-9_.]+$/;

/**
 * Routes instances of the class to the queue of one entity of `entityType`. The entity id is read
 * from the property marked `@QueueEntityId()`, else from `idProperty`, else from
 * `entities[entityType].defaultEntityId` in the options.
 *
 * The class's job name is its `@JobCommand(name)` / `@JobQuery(name)` name, else its class name as
 * written (captured now). Builds that minify class names must give explicit names.
 *
 * @example
 * ```ts
 * @QueueEntity('account')
 * export class WithdrawCommand {
 *   constructor(@QueueEntityId() public readonly accountId: string, public readonly amount: number) {}
 * }
 * ```
 */
export function QueueEntity(entityType: string, idProperty?: string) {
  return (target: ClassType): void => {
    if (typeof entityType !== 'string' || !TYPE_NAME.test(entityType))
      throw new InvalidOptionsError(
        `@QueueEntity() entity type of ${target.name}`,
        'a type name of letters, digits, `_` or `.`',
        entityType,
      );
    if (idProperty !== undefined) {
      if (typeof idProperty !== 'string' || idProperty.length === 0)
        throw new InvalidOptionsError(
          `@QueueEntity() idProperty of ${target.name}`,
          'a property name',
          idProperty,
        );
      const marked = QueueEntityAccessor.idProperty(target);
      if (marked !== undefined && marked !== idProperty)
        throw new DuplicateEntityIdError(target.name, marked, idProperty);
    }
    QueueEntityAccessor.setEntity(target, { entityType, idProperty });
    jobNames.registerImplicit(target);
  };
}
