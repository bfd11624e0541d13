import { Redis, type RedisOptions } from 'ioredis';

/**
 * One ioredis connection that fails fast and says why: no reconnects, no retries, no INFO ready
 * check (a restricted user may not run INFO). Rejects with the first error the connection met
 * (a TLS verification error, a wrong password), not ioredis's generic "Connection is closed".
 */
export async function connect(url: string, options: RedisOptions = {}): Promise<Redis> {
  const client = new Redis(url, {
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    ...options,
  });
  let firstError: Error | undefined;
  // Commands reject with their own errors; this keeps the first for connect()'s rejection.
  client.on('error', (err: Error) => (firstError ??= err));
  try {
    await client.connect();
  } catch (err) {
    firstError ??= err instanceof Error ? err : new Error(String(err));
  }
  // A refused AUTH does not fail connect(): its error event comes before 'ready'.
  if (firstError !== undefined) {
    client.disconnect();
    throw firstError;
  }
  return client;
}

/** `fn` on a new `connect()` connection, closed after. */
export async function withClient<T>(
  url: string,
  options: RedisOptions,
  fn: (client: Redis) => Promise<T>,
): Promise<T> {
  const client = await connect(url, options);
  try {
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

/** True once no process has this PID (signal 0 probes without signalling). */
export function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
