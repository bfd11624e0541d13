import { AtomicQueuesError } from './atomic-queues.error';

/** A `@QueueEntity` class names no property holding its entity id. */
export class MissingEntityIdError extends AtomicQueuesError {
  constructor(
    readonly className: string,
    readonly entityType: string,
  ) {
    super(
      'MISSING_ENTITY_ID',
      `${className} (entity type \`${entityType}\`) has no entity id property: mark it with ` +
        `@QueueEntityId(), pass it as @QueueEntity('${entityType}', '<property>'), or set ` +
        `\`entities.${entityType}.defaultEntityId\` in the options.`,
    );
  }
}
