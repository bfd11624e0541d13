import { AtomicQueuesError } from './atomic-queues.error';

/** CQRS handlers of queued commands exist, but `@nestjs/cqrs`'s buses cannot be reached. */
export class CqrsUnavailableError extends AtomicQueuesError {
  constructor(
    readonly handlerName: string,
    reason: string,
  ) {
    super(
      'CQRS_UNAVAILABLE',
      `${handlerName} handles a @QueueEntity class, but ${reason}. Install @nestjs/cqrs and ` +
        'import CqrsModule (or CqrsModule.forRoot()) in the application.',
    );
  }
}
