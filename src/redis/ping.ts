import type { RedisClient } from './connections';

/**
 * PINGs Redis on `client`; resolves with the round trip in ms, rejects when the connection is not
 * ready (nothing is queued on a connection that is reconnecting) or no answer came within
 * `timeoutMs`.
 */
export async function pingWithin(client: RedisClient, timeoutMs: number): Promise<number> {
  if (client.status !== 'ready') throw new Error(`connection ${client.status}`);
  const sentAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer to PING within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([client.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
  return Math.round((performance.now() - sentAt) * 100) / 100;
}
