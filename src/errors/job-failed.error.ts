import { AtomicQueuesError } from './atomic-queues.error';
import { reviveError, type SerializedError } from './serialized-error';

/** Properties of JobFailedError that a handler error's own fields never overwrite. */
const OWN = new Set([
  'code',
  'jobId',
  'handlerErrorName',
  'details',
  'name',
  'message',
  'stack',
  'cause',
]);

/**
 * The handler of an awaited job threw (after its last attempt). It carries the handler error as
 * far as JSON can: its `name`, `message` and `stack` are the handler error's, `cause` is rebuilt,
 * and its own fields are copied onto this error (so an `HttpException`'s `status` and `response`
 * are there, whichever pod ran the handler); `details` keeps them all.
 */
export class JobFailedError extends AtomicQueuesError {
  readonly handlerErrorName: string;
  /** The handler error's own fields, as carried (JSON). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    readonly jobId: string,
    error: SerializedError,
  ) {
    super(
      'JOB_FAILED',
      error.message,
      error.cause === undefined ? undefined : { cause: reviveError(error.cause) },
    );
    this.name = error.name;
    this.handlerErrorName = error.name;
    if (error.stack) this.stack = error.stack;
    this.details = error.fields ?? {};
    for (const [key, value] of Object.entries(this.details))
      if (!OWN.has(key)) (this as unknown as Record<string, unknown>)[key] = value;
  }
}
