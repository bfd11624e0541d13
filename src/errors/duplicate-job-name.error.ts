import { AtomicQueuesError } from './atomic-queues.error';

/** Two different classes are registered under one job name, so a job could not be revived. */
export class DuplicateJobNameError extends AtomicQueuesError {
  constructor(
    readonly jobName: string,
    readonly classNames: readonly string[],
  ) {
    super(
      'DUPLICATE_JOB_NAME',
      `Job name \`${jobName}\` is registered by more than one class (${classNames.join(', ')}). ` +
        "Give each an explicit, unique name: @JobCommand('<name>') or @JobQuery('<name>').",
    );
  }
}
