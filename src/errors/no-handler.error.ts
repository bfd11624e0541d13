import { AtomicQueuesError } from './atomic-queues.error';

/** A pod took a job of an entity type for which no handler is registered on it. */
export class NoHandlerError extends AtomicQueuesError {
  constructor(
    readonly entityType: string,
    readonly podId: string,
  ) {
    super(
      'NO_HANDLER',
      `No handler is registered for entity type \`${entityType}\` on pod ${podId}: call ` +
        `registerHandler('${entityType}', fn) before start(), or run this pod with processing: false.`,
    );
  }
}
