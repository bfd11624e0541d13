import { AtomicQueuesError } from './atomic-queues.error';

/**
 * `skipNextJob` was called on an entity that is not paused: its runner may be taking that very
 * job, so nothing was skipped.
 */
export class EntityNotPausedError extends AtomicQueuesError {
  constructor(
    readonly entityType: string,
    readonly entityId: string,
  ) {
    super(
      'ENTITY_NOT_PAUSED',
      `${entityType} \`${entityId}\` is not paused: pause it first (pauseEntity) to skip its next ` +
        'job; nothing was skipped',
    );
  }
}
