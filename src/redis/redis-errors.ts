import type { RedisRefusalReason } from '../errors';

/** The error codes that start Redis's refusal replies, and what they mean for the library. */
const REFUSALS: Readonly<Record<string, RedisRefusalReason>> = {
  OOM: 'out-of-memory',
  MISCONF: 'disk-error',
  READONLY: 'read-only',
  LOADING: 'loading',
  BUSY: 'busy',
  CLUSTERDOWN: 'unavailable',
  TRYAGAIN: 'unavailable',
  MASTERDOWN: 'unavailable',
  NOREPLICAS: 'unavailable',
  // A redirection ioredis did not follow: it follows one in a pipeline only when every reply
  // is that error, and an enqueue's WAIT (durability) answers a number. Nothing ran.
  MOVED: 'unavailable',
  ASK: 'unavailable',
};

/** Codes of ioredis's errors when a connection is lost or not there. */
const CONNECTION_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND']);

/**
 * The reason of a Redis refusal: the error code that starts an error reply (Redis's protocol puts
 * one there, e.g. `OOM command not allowed ...`); undefined for anything else.
 */
export function refusalReason(error: unknown): RedisRefusalReason | undefined {
  if (!(error instanceof Error) || error.name !== 'ReplyError') return undefined;
  return REFUSALS[error.message.slice(0, error.message.indexOf(' ') >>> 0)];
}

/**
 * True for an error that says Redis was not reachable or refused for a while (a refusal, a lost
 * connection): work that hit it is retried, not given up.
 */
export function isTransient(error: unknown): boolean {
  if (refusalReason(error) !== undefined) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  // ioredis's own: a command flushed when its connection closed, or retried too often.
  return error.message === 'Connection is closed.' || error.name === 'MaxRetriesPerRequestError';
}

/**
 * True for ioredis's AbortError: a command of a pipeline that ioredis did not send again after
 * its connection closed, because an earlier reply of the same pipeline had come back (it resends
 * a pipeline only whole). Redis may or may not have run it.
 */
export function isAborted(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
