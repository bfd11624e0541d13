import { AtomicQueuesError } from './atomic-queues.error';

/** The job payload cannot be stored: it does not serialize to JSON or is over the size limit. */
export class InvalidPayloadError extends AtomicQueuesError {
  constructor(
    readonly jobName: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super('INVALID_PAYLOAD', `Cannot enqueue job \`${jobName}\`: ${reason}`, options);
  }
}
