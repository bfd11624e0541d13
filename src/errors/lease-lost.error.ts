import { AtomicQueuesError } from './atomic-queues.error';

/**
 * Why Redis refused a runner's write to one of its jobs: the closed set behind
 * {@link LeaseLostError}, one per code the engine's scripts (and BullMQ's) return.
 */
export type LeaseLostReason =
  /** The job's hash is gone (removed, or finished by a resent call). */
  | 'job-missing'
  /** The job has no lock: the lease expired and a new holder took the job back. */
  | 'lock-missing'
  /** The job is no longer active. */
  | 'job-not-active'
  /** Another holder's token locks the job. */
  | 'lock-mismatch'
  /** The entity's lease holds another token. */
  | 'lease-moved';

/**
 * This pod's lease on an entity ended (it stalled past `heartbeatTTL` or lost Redis, and another
 * pod may have taken over): Redis refused to let it acknowledge the job it held. The new holder
 * runs that job again. Carried by the `lease:lost` event.
 */
export class LeaseLostError extends AtomicQueuesError {
  constructor(
    readonly reason: LeaseLostReason,
    /** What was refused, e.g. "complete job 12 of {account-42-queue}". */
    readonly operation: string,
  ) {
    super('LEASE_LOST', `Lost the lease (${reason}): Redis refused to ${operation}`);
  }
}
