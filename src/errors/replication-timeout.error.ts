import { AtomicQueuesError } from './atomic-queues.error';

/**
 * With the `durability` option: Redis stored the job but fewer replicas than asked confirmed
 * it within `durability.timeoutMs` (`WAIT`). The job is stored on the master and may run; a
 * failover before it reaches a replica may drop it. Retry with the same `jobId` (idempotent).
 */
export class ReplicationTimeoutError extends AtomicQueuesError {
  constructor(
    readonly entityType: string,
    readonly entityId: string,
    /** Replicas asked for (`durability.replicas`). */
    readonly replicas: number,
    /** Replicas that confirmed the write in time. */
    readonly acknowledged: number,
    readonly timeoutMs: number,
  ) {
    super(
      'NOT_REPLICATED',
      `The job for ${entityType} \`${entityId}\` is stored, but ${acknowledged} of the ` +
        `${replicas} replica(s) asked for confirmed it within ${timeoutMs} ms: a failover now may ` +
        'drop it; retry with the same jobId',
    );
  }
}
