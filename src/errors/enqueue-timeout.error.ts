import { AtomicQueuesError } from './atomic-queues.error';

/**
 * Redis did not confirm the enqueue in time. The job may or may not have been stored: retry with
 * the same `jobId` to stay idempotent.
 */
export class EnqueueTimeoutError extends AtomicQueuesError {
  constructor(
    readonly entityType: string,
    readonly entityId: string,
    readonly timeoutMs: number,
  ) {
    super(
      'ENQUEUE_TIMEOUT',
      `Redis did not confirm the job for ${entityType} \`${entityId}\` within ${timeoutMs} ms; it may not be stored`,
    );
  }
}
