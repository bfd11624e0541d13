import { AtomicQueuesError } from './atomic-queues.error';

/**
 * `@QueueEntityId()` sits on a constructor parameter whose field could not be found from the
 * class's source (a destructured parameter, a parameter not stored on the instance, or code too
 * transformed to read), or on a parameter of a method.
 */
export class EntityIdParameterError extends AtomicQueuesError {
  constructor(
    readonly className: string,
    readonly parameterIndex: number,
    reason: string,
  ) {
    super(
      'ENTITY_ID_PARAMETER',
      `@QueueEntityId() on parameter #${parameterIndex} of ${className}: ${reason}. ` +
        'Put @QueueEntityId() on the property instead, or name it: @QueueEntity(type, idProperty).',
    );
  }
}
