import type { Redis } from 'ioredis';

/** QUIT, or just drop the socket if the connection is already closing or closed. */
export async function quietQuit(client: Redis): Promise<void> {
  if (client.status === 'end' || client.status === 'close') return;
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
