import { InvalidOptionsError } from '../../errors';
import { checkOptionObject, keysOf } from '../options/option-keys';
import type { EntityHandle } from '../entities/entity';
import type { PendingJob } from './add-batcher';
import { checkPayload } from './payload';

// BulkJob and WaitForJobOptions are public: they live here, not in producer.ts, whose
// declarations import optional peers' types (tracing) that an app without them can't resolve.

/** One item of `enqueueBulk`. */
export interface BulkJob {
  type: string;
  entityId: unknown;
  name: string;
  data: unknown;
  opts?: EnqueueOptions;
}

/** Options of `waitForJob`. */
export interface WaitForJobOptions {
  /** Milliseconds to wait for the result. @defaultValue 30000 */
  timeoutMs?: number;
}

/** Options of one enqueue. */
export interface EnqueueOptions {
  /**
   * Your own job id (idempotency key): while a job with this id is stored for the entity, a
   * second enqueue with it adds nothing (and `enqueueAndWait` gets the first one's result).
   * Without it the engine makes an id unique across entities and pods.
   */
  jobId?: string;
  /** Milliseconds before the job may run. Later jobs of the entity are not held back by it. */
  delay?: number;
}

export interface EnqueueAndWaitOptions extends EnqueueOptions {
  /** Milliseconds to wait for the result. @defaultValue 30000 */
  timeoutMs?: number;
}

const JOB_ID = /^[A-Za-z0-9_.~-]{1,256}$/;
const ENQUEUE_KEYS = keysOf<EnqueueOptions>({ jobId: true, delay: true });
const ENQUEUE_AND_WAIT_KEYS = keysOf<EnqueueAndWaitOptions>({
  jobId: true,
  delay: true,
  timeoutMs: true,
});

/** Which call the options came with: `enqueueAndWait` takes `timeoutMs` too. */
export type EnqueueCall = 'enqueue' | 'enqueueAndWait' | 'enqueueBulk';

/**
 * Checks one job (name, options, payload) at the boundary, before anything is written, and
 * returns it ready to send. `jobId` is the id it will be stored under: the caller's, or one the
 * engine made. The entity (its type and id) is checked last, by `entity`.
 */
export function checkJob(
  entity: () => EntityHandle,
  name: string,
  data: unknown,
  opts: EnqueueOptions,
  jobId: () => string,
  maxPayloadBytes: number,
  call: EnqueueCall,
): PendingJob {
  checkOptionObject(
    opts,
    call === 'enqueueAndWait' ? ENQUEUE_AND_WAIT_KEYS : ENQUEUE_KEYS,
    `${call}() options`,
  );
  if (typeof name !== 'string' || name.length === 0 || name.length > 256) {
    throw new InvalidOptionsError('job name', 'a non-empty string of at most 256 characters', name);
  }
  if (
    opts.jobId !== undefined &&
    (typeof opts.jobId !== 'string' || !JOB_ID.test(opts.jobId) || /^\d+$/.test(opts.jobId))
  ) {
    throw new InvalidOptionsError(
      'jobId',
      'a string of at most 256 letters, digits or `_.~-`, not only digits',
      opts.jobId,
    );
  }
  if (opts.delay !== undefined && !(Number.isInteger(opts.delay) && opts.delay >= 0)) {
    throw new InvalidOptionsError('delay', 'an integer number of ms ≥ 0', opts.delay);
  }
  const json = checkPayload(name, data, maxPayloadBytes);
  return { entity: entity(), name, data, json, jobId: opts.jobId ?? jobId(), delay: opts.delay };
}
