import { AtomicQueuesError } from './atomic-queues.error';

/** The entity id is empty, not a string or finite number, or longer than the limit. */
export class InvalidEntityIdError extends AtomicQueuesError {
  constructor(
    readonly entityType: string,
    readonly received: unknown,
    reason: string,
  ) {
    super('INVALID_ENTITY_ID', `Invalid id for entity type \`${entityType}\`: ${reason}`);
  }
}
