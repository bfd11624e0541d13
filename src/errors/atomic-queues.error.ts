/**
 * Base class of every error this library throws. `code` is stable across versions: match on it,
 * not on the message.
 */
export class AtomicQueuesError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
