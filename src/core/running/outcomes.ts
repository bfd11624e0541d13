import type { Job } from 'bullmq';
import { serializeError } from '../../errors';
import { errorMessage } from '../../errors/error-message';
import type { FinishedOutcome } from '../../redis/scripts/step';

/** A completed job's outcome as the step stores it (BullMQ's returnvalue, attempts made). */
export function completedOutcome(job: Job, value: unknown): FinishedOutcome {
  return {
    jobId: job.id!,
    status: 'completed',
    value: returnValue(value),
    attempts: job.attemptsMade + 1,
  };
}

/** A failed job's outcome as the step stores it (failedReason, the error as `aqe`, stacktrace). */
export function failedOutcome(job: Job, error: unknown): FinishedOutcome {
  const serialized = serializeError(error);
  return {
    jobId: job.id!,
    status: 'failed',
    value: errorMessage(error),
    attempts: job.attemptsMade + 1,
    error: JSON.stringify(serialized),
    stacktrace: JSON.stringify(serialized.stack ? [serialized.stack] : []),
  };
}

/** A return value as BullMQ stores it: JSON, and 'null' for what JSON can't represent. */
function returnValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return 'null'; // the caller hears of it: the result does not serialize
  }
}
