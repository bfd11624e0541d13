import { AtomicQueuesError } from './atomic-queues.error';

/** A class names its entity id twice (two `@QueueEntityId`, or one plus a different `idProperty`). */
export class DuplicateEntityIdError extends AtomicQueuesError {
  constructor(
    readonly className: string,
    readonly first: string,
    readonly second: string,
  ) {
    super(
      'DUPLICATE_ENTITY_ID',
      `${className} already takes its entity id from \`${first}\`; it cannot also take it from ` +
        `\`${second}\`. Keep one @QueueEntityId (or one @QueueEntity idProperty) per class.`,
    );
  }
}
