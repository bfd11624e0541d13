import { AtomicQueuesError } from './atomic-queues.error';

/** Two handlers claim the same thing: an entity type, a job name, or a command class. */
export class DuplicateRouteError extends AtomicQueuesError {
  constructor(
    readonly route: string,
    readonly handlers: readonly string[],
  ) {
    super(
      'DUPLICATE_ROUTE',
      `${route} is handled by more than one handler (${handlers.join(', ')}); keep exactly one.`,
    );
  }
}
