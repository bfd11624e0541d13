import { AtomicQueuesError } from './atomic-queues.error';

/** Why Redis refused a command, from the error code that starts its reply. */
export type RedisRefusalReason =
  /** `OOM`: maxmemory reached with a `noeviction` policy. */
  | 'out-of-memory'
  /** `MISCONF`: Redis can't persist (e.g. the disk is full) and refuses writes. */
  | 'disk-error'
  /** `READONLY`: the node is a replica (a failover demoted it). */
  | 'read-only'
  /** `LOADING`: Redis is loading its dataset after a restart. */
  | 'loading'
  /** `BUSY`: a script is running past its time limit. */
  | 'busy'
  /**
   * `CLUSTERDOWN`, `TRYAGAIN`, `MASTERDOWN`, `NOREPLICAS`, or a `MOVED` / `ASK` redirection left
   * unfollowed (a failover in progress): the cluster can't serve it now.
   */
  | 'unavailable';

const EXPLAINED: Readonly<Record<RedisRefusalReason, string>> = {
  'out-of-memory': 'Redis is out of memory (maxmemory reached with the noeviction policy)',
  'disk-error': 'Redis cannot persist its data (MISCONF: check its disk) and refuses writes',
  'read-only': 'the Redis node is a read-only replica (after a failover?)',
  loading: 'Redis is loading its dataset',
  busy: 'Redis is busy running a script',
  unavailable: 'the Redis cluster cannot serve the request now',
};

/**
 * Redis refused a command. At enqueue, the job was not stored (retry later, with the same
 * `jobId` to stay idempotent). In background work (runs, renewals) pods retry by themselves.
 * `cause` is the Redis client's error.
 */
export class RedisRefusedError extends AtomicQueuesError {
  constructor(
    readonly reason: RedisRefusalReason,
    /** What was refused, e.g. "the job for account `a`". */
    operation: string,
    options: { cause: unknown },
  ) {
    super('REDIS_REFUSED', `Redis refused ${operation}: ${EXPLAINED[reason]}`, options);
  }
}
