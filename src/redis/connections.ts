import IORedis, { Cluster, type Redis, type RedisOptions } from 'ioredis';

/** A client as the engine uses it: the classes of the ioredis it is compiled against. */
export type RedisClient = Redis | Cluster;

/**
 * An ioredis `Redis` or `Cluster` instance, of ioredis 5 or 6, recognized by its shape: a
 * client made by the app's own copy of ioredis type-checks whichever copy these declarations
 * resolve to (ioredis's classes have private members, so they only match their own copy).
 * BullMQ recognizes clients the same way. The engine sends its commands through this client
 * and opens its other connections with `duplicate()`.
 */
export interface IORedisClient {
  readonly isCluster: boolean;
  readonly status: string;
  duplicate(): IORedisClient;
  sendCommand(...args: never[]): unknown;
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
}

/** How to reach Redis: connection settings, a `redis://` / `rediss://` URL, or your own client. */
export type RedisConnection =
  | string
  | IORedisClient
  | (Pick<RedisOptions, 'host' | 'port' | 'password' | 'username' | 'db' | 'tls'> & RedisOptions);

function isClient(value: RedisConnection): value is IORedisClient {
  return (
    typeof value === 'object' &&
    typeof (value as { sendCommand?: unknown }).sendCommand === 'function'
  );
}

/**
 * Whether `client` is an ioredis `Cluster`, by the `isCluster` flag both ioredis classes carry
 * (as BullMQ's `isRedisCluster` does), not `instanceof`: an app's client may come from another
 * copy of ioredis than the one loaded here (workspaces, a nested install), and a Cluster taken
 * for a single Redis would send multi-slot pipelines and scripts.
 */
export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster === true;
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
      // The app's own Redis or Cluster, perhaps from another copy of ioredis: same API.
      this.command = config as RedisClient;
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
      client = this.config.duplicate() as RedisClient;
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
