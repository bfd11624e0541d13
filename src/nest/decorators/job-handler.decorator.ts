import type { Job } from 'bullmq';
import type { JobContext } from '../../core';
import { InvalidOptionsError } from '../../errors';
import { JOB_HANDLER_METADATA } from '../atomic-queues.constants';

/**
 * What a `@JobHandler` method may be: called as `(job, entityId, context)`, with `job.data` of
 * the type the method declares (`job: Job<WithdrawCommand>`: the command's fields, as enqueued).
 */
export type JobHandlerMethod<T = unknown, R = unknown> = (
  job: Job<T, R>,
  entityId: string,
  context: JobContext,
) => unknown;

/**
 * Makes a method of a `@WorkerProcessor` run the jobs named `name` of its entity type, or, with
 * `'*'`, every job no explicit handler and no CQRS handler takes. Called as
 * `(job: Job<T>, entityId: string, context: JobContext)`; its return value is the job's result.
 * A method whose parameters can't take these fails to compile. A method may carry several
 * `@JobHandler`s.
 */
export function JobHandler(
  name: string,
): <T, R>(
  target: object,
  key: string | symbol,
  descriptor: { readonly value?: JobHandlerMethod<T, R> },
) => void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 256)
    throw new InvalidOptionsError(
      '@JobHandler() name',
      "a job name (a non-empty string of at most 256 characters) or '*'",
      name,
    );
  return (target, key, descriptor) => {
    const method: unknown = descriptor.value;
    if (typeof method !== 'function')
      throw new InvalidOptionsError(
        `@JobHandler('${name}') target`,
        'a method',
        `${target.constructor.name}.${String(key)}`,
      );
    const names =
      (Reflect.getOwnMetadata(JOB_HANDLER_METADATA, method) as string[] | undefined) ?? [];
    Reflect.defineMetadata(JOB_HANDLER_METADATA, [...names, name], method);
  };
}

/** The job names a method handles (`@JobHandler`), empty when none. */
export function jobHandlerNames(method: unknown): readonly string[] {
  if (typeof method !== 'function') return [];
  return (Reflect.getOwnMetadata(JOB_HANDLER_METADATA, method) as string[] | undefined) ?? [];
}
