import { AtomicQueuesError } from './atomic-queues.error';

/**
 * This pod's lease on an entity ended (it stalled past `heartbeatTTL` or lost Redis, and another
 * pod may have taken over). The job it held was not acknowledged; the new owner runs it again.
 */
export class LeaseLostError extends AtomicQueuesError {
  constructor(
    readonly entityType: string,
    readonly entityId: string,
    readonly fencingToken: number,
  ) {
    super(
      'LEASE_LOST',
      `Lost the lease on ${entityType} \`${entityId}\` (fencing token ${fencingToken}); the job was not acknowledged`,
    );
  }
}
