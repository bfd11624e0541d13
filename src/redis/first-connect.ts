import type { Cluster, Redis } from 'ioredis';
import { RedisConnectionError } from '../errors';
import { CLOSED, connectionProblem, type ConnectionProblem } from './connection-problem';
import { describeRedisTarget } from './redis-target';

const HINTS: Partial<Record<ConnectionProblem['reason'], string>> = {
  auth: 'check the credentials (redis.username, redis.password) and what the user may run',
  tls: 'check redis.tls (the CA, the host name) and that the port serves TLS',
};

/**
 * Runs start-up `work` while `client` makes its first connection, and bounds it: rejects with
 * RedisConnectionError at the first credentials or TLS failure (retrying can't fix those), or
 * after `timeoutMs` without success, naming the last problem seen (refused, DNS, ...) or the
 * silence. The caller closes what `work` opened; `work`'s own late failure is ignored.
 */
export async function firstConnect<T>(
  client: Redis | Cluster,
  timeoutMs: number,
  work: () => Promise<T>,
): Promise<T> {
  let last: ConnectionProblem | undefined;
  let connected = false;
  let erred = false;
  let fail: (problem: ConnectionProblem, timedOut: boolean) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = (problem, timedOut) => reject(startupError(client, problem, timedOut, timeoutMs));
  });
  const onError = (error: unknown): void => {
    last = connectionProblem(error);
    erred = true;
    if (last.fatal) fail(last, false);
  };
  const onConnect = (): void => {
    connected = true;
    erred = false;
  };
  // A connection the server ended without an error (a plain client on a TLS port, maxclients).
  const onClose = (): void => {
    if (connected && !erred) last = CLOSED;
    connected = false;
  };
  client.on('error', onError);
  client.on('connect', onConnect);
  client.on('close', onClose);
  const timer = setTimeout(() => fail(last ?? silence(timeoutMs), true), timeoutMs);
  const working = work();
  try {
    return await Promise.race([working, failed]);
  } catch (err) {
    if (err instanceof RedisConnectionError || last === undefined) throw err;
    // The work gave up by itself (the client ended): report why the connection failed.
    throw startupError(client, last, false, timeoutMs);
  } finally {
    clearTimeout(timer);
    working.catch(() => undefined); // abandoned when the connection failed first
    client.off('error', onError);
    client.off('connect', onConnect);
    client.off('close', onClose);
  }
}

function silence(timeoutMs: number): ConnectionProblem {
  return {
    reason: 'timeout',
    description: `no answer within ${timeoutMs} ms (startTimeoutMs)`,
    fatal: false,
  };
}

function startupError(
  client: Redis | Cluster,
  problem: ConnectionProblem,
  timedOut: boolean,
  timeoutMs: number,
): RedisConnectionError {
  const hint = HINTS[problem.reason];
  let message = problem.description;
  if (hint !== undefined) message += `; ${hint}`;
  else if (timedOut && !message.includes('startTimeoutMs'))
    message += `; still failing after ${timeoutMs} ms (startTimeoutMs)`;
  return new RedisConnectionError(describeRedisTarget(client), problem.reason, message);
}
