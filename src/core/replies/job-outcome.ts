import { errorMessage } from '../../errors/error-message';

/** A finished job's result as it travels to the pod that awaits it. */
export type JobOutcome =
  | { jobId: string; status: 'completed'; value: unknown }
  | { jobId: string; status: 'failed'; error: { name: string; message: string } };

/** The outcome of a job that finished with `value` (its result, or the error it threw). */
export function outcomeOf(
  jobId: string,
  status: 'completed' | 'failed',
  value: unknown,
): JobOutcome {
  if (status === 'completed') return { jobId, status, value };
  return {
    jobId,
    status,
    error: { name: value instanceof Error ? value.name : 'Error', message: errorMessage(value) },
  };
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
