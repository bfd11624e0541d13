import IORedis, { Cluster, type Redis, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

/** How to reach Redis: connection settings, a `redis://` / `rediss://` URL, or your own client. */
export type RedisConnection =
  | string
  | Redis
  | Cluster
  | (Pick<RedisOptions, 'host' | 'port' | 'password' | 'username' | 'db' | 'tls'> & RedisOptions);

function isClient(value: RedisConnection): value is Redis | Cluster {
  return (
    typeof value === 'object' &&
    typeof (value as { sendCommand?: unknown }).sendCommand === 'function'
  );
}

/**
 * The pod's Redis connections. Their number is fixed, whatever the number of entities:
 * `command` carries every non-blocking call (enqueues, job moves, heartbeats), `blocking` waits
 * for wake-up and spawn signals (processing pods only), `subscriber` receives job results for
 * `enqueueAndWait` (opened on first use).
 */
export class Connections {
  readonly command: RedisClient;
  /**
   * Counts the command connection's closes. A command sent before a close and answered after
   * it may have run twice: ioredis resends commands whose reply was lost with the connection,
   * and Redis may have run the first copy (AOF) before it died.
   */
  commandEpoch = 0;
  /**
   * Counts the blocking connection's closes: a blocking pop whose reply was lost with the
   * connection took its member (a wake-up, a spawn request) with it.
   */
  blockingEpoch = 0;
  private readonly owned: RedisClient[] = [];
  private blockingClient?: RedisClient;
  private subscriberClient?: RedisClient;

  constructor(
    private readonly config: RedisConnection,
    private readonly connectionName: string,
    /** Hears connection errors of the clients opened here (ioredis reconnects by itself). */
    private readonly onError: (error: unknown, context: string) => void = () => undefined,
  ) {
    if (isClient(config)) {
      this.command = config;
    } else {
      this.command = this.open('cmd');
    }
    this.command.on('close', this.countClose);
  }

  private readonly countClose = (): void => {
    this.commandEpoch += 1;
  };

  /** The dedicated blocking connection; created on first use. */
  get blocking(): RedisClient {
    if (!this.blockingClient) {
      this.blockingClient = this.open('blk');
      this.blockingClient.on('close', () => (this.blockingEpoch += 1));
    }
    return this.blockingClient;
  }

  get subscriber(): RedisClient {
    this.subscriberClient ??= this.open('sub');
    return this.subscriberClient;
  }

  private open(role: string): RedisClient {
    const name = `${this.connectionName}:${role}`;
    let client: RedisClient;
    if (isClient(this.config)) {
      client = this.config.duplicate();
    } else {
      // Commands wait through a reconnect instead of failing; enqueue bounds the wait itself.
      const base: RedisOptions = {
        maxRetriesPerRequest: null,
        enableReadyCheck: true,
        connectionName: name,
      };
      client =
        typeof this.config === 'string'
          ? new IORedis(this.config, base)
          : new IORedis({ ...this.config, ...base });
    }
    client.on('error', (err: unknown) => this.onError(err, `Redis connection ${name}`));
    this.owned.push(client);
    return client;
  }

  /** Interrupts a blocking wait: closes the blocking connection; the next use reopens it. */
  interruptBlocking(): void {
    const client = this.blockingClient;
    if (!client) return;
    this.blockingClient = undefined;
    this.owned.splice(this.owned.indexOf(client), 1);
    client.disconnect();
  }

  async close(): Promise<void> {
    this.command.off('close', this.countClose);
    const clients = this.owned.splice(0);
    this.blockingClient = undefined;
    this.subscriberClient = undefined;
    await Promise.all(
      clients.map(async (c) => {
        try {
          await c.quit();
        } catch {
          c.disconnect(); // already closed or unreachable: drop the socket
        }
      }),
    );
  }
}

export { Cluster };
