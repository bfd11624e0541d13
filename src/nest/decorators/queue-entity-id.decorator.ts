import { EntityIdParameterError } from '../../errors';
import type { ClassType } from '../interfaces/class-type.interface';
import { constructorParameterField } from '../metadata/constructor-parameter.parser';
import { QueueEntityAccessor } from '../metadata/queue-entity.accessor';

/**
 * Marks where a `@QueueEntity` class holds its entity id: a property, or a constructor parameter
 * property (`constructor(@QueueEntityId() public readonly accountId: string)`). One per class: a
 * second one throws DuplicateEntityIdError as the class is defined.
 *
 * On a constructor parameter, the field is found from the constructor's source (TypeScript does
 * not record parameter names); if it can't be (destructured, not stored on `this`), the decorator
 * throws EntityIdParameterError saying so.
 */
export function QueueEntityId() {
  return (target: object, propertyKey: string | symbol | undefined, parameterIndex?: number) => {
    if (typeof parameterIndex === 'number') {
      if (propertyKey !== undefined || typeof target !== 'function') {
        const owner = (target as { constructor: ClassType }).constructor;
        throw new EntityIdParameterError(
          owner.name,
          parameterIndex,
          `it is a parameter of method \`${String(propertyKey)}\`, not of the constructor`,
        );
      }
      const cls = target as ClassType;
      const found = constructorParameterField(cls, parameterIndex);
      if ('reason' in found)
        throw new EntityIdParameterError(cls.name, parameterIndex, found.reason);
      QueueEntityAccessor.setIdProperty(cls, found.field);
      return;
    }
    if (typeof propertyKey !== 'string' || typeof target === 'function') {
      const owner = typeof target === 'function' ? (target as ClassType) : target.constructor;
      throw new EntityIdParameterError(
        owner.name,
        -1,
        `\`${String(propertyKey)}\` must be a string-named instance property`,
      );
    }
    QueueEntityAccessor.setIdProperty(target.constructor as ClassType, propertyKey);
  };
}
