import { AtomicQueuesError } from './atomic-queues.error';

/** A command or query handed to `QueueBus` whose class is not decorated with `@QueueEntity`. */
export class MissingQueueEntityError extends AtomicQueuesError {
  constructor(readonly className: string) {
    super(
      'MISSING_QUEUE_ENTITY',
      `${className} is not decorated with @QueueEntity(type): QueueBus cannot tell which ` +
        "entity's queue it belongs to. Add @QueueEntity('<type>') to the class.",
    );
  }
}
