import { AtomicQueuesError } from './atomic-queues.error';

/** `QueueBus.forProcessor()` got a class that is not decorated with `@WorkerProcessor`. */
export class NotAProcessorError extends AtomicQueuesError {
  constructor(readonly className: string) {
    super(
      'NOT_A_PROCESSOR',
      `${className} is not decorated with @WorkerProcessor({ entityType }), so it names no ` +
        'entity type to enqueue to. Use QueueBus.forEntity(type, id) or decorate the class.',
    );
  }
}
