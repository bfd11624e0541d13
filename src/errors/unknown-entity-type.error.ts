import { AtomicQueuesError } from './atomic-queues.error';

/** A job was enqueued for an entity type that was never registered or configured. */
export class UnknownEntityTypeError extends AtomicQueuesError {
  constructor(
    readonly entityType: string,
    known: readonly string[],
  ) {
    super(
      'UNKNOWN_ENTITY_TYPE',
      `Unknown entity type \`${entityType}\`. Known types: ${known.length ? known.map((k) => `\`${k}\``).join(', ') : '(none)'}. ` +
        'Declare it under `entities` in the options or with @QueueEntity / @WorkerProcessor.',
    );
  }
}
