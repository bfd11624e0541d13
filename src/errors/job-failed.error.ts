import { AtomicQueuesError } from './atomic-queues.error';

/**
 * The handler of a job awaited with `enqueueAndWait` threw. Its `name` and `message` are the
 * handler error's; `handlerErrorName` keeps the name too.
 */
export class JobFailedError extends AtomicQueuesError {
  constructor(
    readonly jobId: string,
    readonly handlerErrorName: string,
    handlerMessage: string,
  ) {
    super('JOB_FAILED', handlerMessage);
    this.name = handlerErrorName;
  }
}
