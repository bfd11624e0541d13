import { AtomicQueuesError } from './atomic-queues.error';

/** Redis answered an enqueue with a refusal: the job was not stored. */
export class EnqueueFailedError extends AtomicQueuesError {
  constructor(
    readonly entityType: string,
    readonly entityId: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      'ENQUEUE_FAILED',
      `The job for ${entityType} \`${entityId}\` was not stored: ${reason}`,
      options,
    );
  }
}
