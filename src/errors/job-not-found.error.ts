import { AtomicQueuesError } from './atomic-queues.error';

/**
 * `waitForJob` was asked for a job that is not stored: never enqueued, or finished and already
 * removed by its entity type's retention (`removeOnComplete` / `removeOnFail`).
 */
export class JobNotFoundError extends AtomicQueuesError {
  constructor(
    readonly entityType: string,
    readonly entityId: string,
    readonly jobId: string,
  ) {
    super(
      'JOB_NOT_FOUND',
      `No job \`${jobId}\` is stored for ${entityType} \`${entityId}\` (never enqueued, or ` +
        'removed by the retention settings removeOnComplete / removeOnFail)',
    );
  }
}
