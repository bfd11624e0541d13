import { JobFailedError, serializeError, type SerializedError } from '../../errors';

/** A finished job's result as it travels to the pods that await it. */
export type JobOutcome =
  | { jobId: string; status: 'completed'; value: unknown }
  | { jobId: string; status: 'failed'; error: SerializedError };

/** The outcome of a job that finished with `value` (its result, or the error it threw). */
export function outcomeOf(
  jobId: string,
  status: 'completed' | 'failed',
  value: unknown,
): JobOutcome {
  if (status === 'completed') return { jobId, status, value };
  return { jobId, status, error: serializeError(value) };
}

/** JSON of an outcome; a result JSON can't carry becomes a failure saying so. */
export function encodeOutcome(outcome: JobOutcome): string {
  try {
    return JSON.stringify(outcome);
  } catch {
    return JSON.stringify({
      jobId: outcome.jobId,
      status: 'failed',
      error: { name: 'TypeError', message: 'The result does not serialize to JSON' },
    });
  }
}

/** The value an outcome settles its callers with, or the error it rejects them with. */
export function settleWith(outcome: JobOutcome): { value: unknown } | { error: JobFailedError } {
  if (outcome.status === 'completed') return { value: outcome.value };
  return { error: new JobFailedError(outcome.jobId, outcome.error) };
}

/** The outcome of a finished job read back from Redis (its stored result or error, JSON). */
export function storedOutcome(
  jobId: string,
  stored: { kind: 'completed'; value: string } | { kind: 'failed'; error: string },
): JobOutcome {
  if (stored.kind === 'completed') {
    let value: unknown = null;
    try {
      value = JSON.parse(stored.value) as unknown;
    } catch {
      value = stored.value;
    }
    return { jobId, status: 'completed', value };
  }
  let error: SerializedError;
  try {
    error = JSON.parse(stored.error) as SerializedError;
  } catch {
    error = { name: 'Error', message: stored.error };
  }
  return { jobId, status: 'failed', error };
}
