import type { RedisConnectionReason } from '../errors';

/**
 * What went wrong with a connection, in words fit for a log line: built from the error's message
 * and code only, never from the commands it carries (ioredis attaches AUTH's arguments).
 */
export interface ConnectionProblem {
  readonly reason: RedisConnectionReason;
  /** e.g. `connection refused (connect ECONNREFUSED 127.0.0.1:6379)`. */
  readonly description: string;
  /** Waiting won't help (credentials, permissions, TLS): start-up fails at once. */
  readonly fatal: boolean;
}

const WORDS: Record<RedisConnectionReason, string> = {
  refused: 'connection refused',
  timeout: 'timed out',
  auth: 'authentication failed',
  tls: 'TLS handshake failed',
  dns: 'host name not found',
  closed: 'the server closed the connection',
  error: 'connection error',
};

const AUTH = /^(Ready check failed: )?(WRONGPASS|NOAUTH|NOPERM)|invalid (username-)?password/i;
const CLOSED_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
const TLS_CODES = /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_)/;

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  library?: unknown;
  lastNodeError?: unknown;
}

function reasonOf(message: string, code: string, library: unknown): RedisConnectionReason {
  if (AUTH.test(message)) return 'auth';
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ETIMEDOUT') return 'timeout';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return 'dns';
  if (CLOSED_CODES.has(code) || message === 'Connection is closed.') return 'closed';
  if (TLS_CODES.test(code) || library === 'SSL routines') return 'tls';
  return 'error';
}

/** The problem an ioredis connection error stands for (a Cluster's: its last node's). */
export function connectionProblem(error: unknown): ConnectionProblem {
  let err = (typeof error === 'object' && error !== null ? error : {}) as ErrorLike;
  if (typeof err.lastNodeError === 'object' && err.lastNodeError !== null) err = err.lastNodeError;
  const message = typeof err.message === 'string' ? err.message : String(error);
  const reason = reasonOf(message, typeof err.code === 'string' ? err.code : '', err.library);
  return {
    reason,
    description: message ? `${WORDS[reason]} (${message})` : WORDS[reason],
    fatal: reason === 'auth' || reason === 'tls',
  };
}

/** The server ended a connection without an error (shutdown, restart, CLIENT KILL). */
export const CLOSED: ConnectionProblem = Object.freeze({
  reason: 'closed',
  description: WORDS.closed,
  fatal: false,
});
