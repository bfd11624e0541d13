import { AtomicQueuesError } from './atomic-queues.error';

/**
 * Why a connection to Redis failed, as far as the connection tells:
 * - `refused`: nothing listens there (ECONNREFUSED);
 * - `timeout`: no TCP connection, or no answer, in time;
 * - `auth`: wrong or missing credentials, or a user without permission (WRONGPASS, NOAUTH,
 *   NOPERM);
 * - `tls`: the TLS handshake failed (untrusted certificate, wrong host name, not a TLS port);
 * - `dns`: the host name does not resolve;
 * - `closed`: the server closed the connection (a plain client on a TLS port, maxclients);
 * - `error`: anything else.
 */
export type RedisConnectionReason =
  'refused' | 'timeout' | 'auth' | 'tls' | 'dns' | 'closed' | 'error';

/**
 * `start()` could not connect to Redis: the message names where (`host:port`, the Cluster's
 * nodes, never credentials) and why. Authentication and TLS failures are reported at once; the
 * others once `startTimeoutMs` has passed without a connection. Nothing stays open.
 */
export class RedisConnectionError extends AtomicQueuesError {
  constructor(
    /** Where the engine tried to connect: `host:port`, a socket path, Sentinels or Cluster nodes. */
    readonly target: string,
    readonly reason: RedisConnectionReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('REDIS_CONNECTION', `Cannot connect to Redis at ${target}: ${message}`, options);
  }
}
