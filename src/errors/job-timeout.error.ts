import { AtomicQueuesError } from './atomic-queues.error';

/** No result arrived for a job awaited with `enqueueAndWait` within its timeout. */
export class JobTimeoutError extends AtomicQueuesError {
  constructor(
    readonly jobId: string,
    entity: string,
    readonly timeoutMs: number,
  ) {
    super(
      'JOB_TIMEOUT',
      `No result for job ${jobId} of ${entity} within ${timeoutMs} ms (it may still run)`,
    );
  }
}
