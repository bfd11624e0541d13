/** The stable `code` of every error this library throws, one per error class. */
export type AtomicQueuesErrorCode =
  | 'CQRS_UNAVAILABLE'
  | 'DUPLICATE_ENTITY_ID'
  | 'DUPLICATE_JOB_NAME'
  | 'DUPLICATE_ROUTE'
  | 'ENGINE_STATE'
  | 'ENQUEUE_FAILED'
  | 'ENQUEUE_TIMEOUT'
  | 'ENTITY_ID_PARAMETER'
  | 'ENTITY_NOT_PAUSED'
  | 'INVALID_ENTITY_ID'
  | 'INVALID_OPTIONS'
  | 'INVALID_PAYLOAD'
  | 'JOB_FAILED'
  | 'JOB_TIMEOUT'
  | 'LEASE_LOST'
  | 'MISSING_ENTITY_ID'
  | 'MISSING_QUEUE_ENTITY'
  | 'NOT_A_PROCESSOR'
  | 'NOT_REPLICATED'
  | 'NO_HANDLER'
  | 'NO_ROUTE'
  | 'REDIS_REFUSED'
  | 'JOB_NOT_FOUND'
  | 'REDIS_CONNECTION'
  | 'UNKNOWN_ENTITY_TYPE';

/**
 * Base class of every error this library throws. `code` is stable across versions: match on it,
 * not on the message.
 */
export class AtomicQueuesError extends Error {
  constructor(
    readonly code: AtomicQueuesErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
