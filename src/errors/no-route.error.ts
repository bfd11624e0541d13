import { AtomicQueuesError } from './atomic-queues.error';

/**
 * A job reached its entity's worker but nothing handles it: no `@JobHandler(name)`, no CQRS
 * handler for its class, no `@JobHandler('*')`. The job fails and stays in BullMQ's failed set.
 */
export class NoRouteError extends AtomicQueuesError {
  constructor(
    readonly jobName: string,
    readonly entityType: string,
    readonly entityId: string,
  ) {
    super(
      'NO_ROUTE',
      `No handler for job \`${jobName}\` of ${entityType} \`${entityId}\`: add ` +
        `@JobHandler('${jobName}') or @JobHandler('*') to the @WorkerProcessor of \`${entityType}\`, ` +
        'or a @CommandHandler / @QueryHandler for its class. The job stays in the failed set.',
    );
  }
}
