import type { Writable } from 'node:stream';
import IORedis, { Cluster, type Redis, type RedisOptions } from 'ioredis';
import { ConnectionMonitor } from './connection-monitor';
import type { ConnectionProblem } from './connection-problem';
import { firstConnect } from './first-connect';
import { describeRedisTarget } from './redis-target';

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

/** What the pod hears of its connections once started (see {@link ConnectionMonitor}). */
export interface ConnectionEvents {
  /** The first connection dropped; `target` says where Redis is (never credentials). */
  lost(problem: ConnectionProblem, target: string): void;
  /** Every connection is ready again, `downtimeMs` after `lost`. */
  restored(downtimeMs: number, target: string): void;
  /** An error of a connection that is up, not about the connection itself. */
  error(error: unknown, context: string): void;
}

const UNHEARD: ConnectionEvents = {
  lost: () => undefined,
  restored: () => undefined,
  error: () => undefined,
};

function isClient(value: RedisConnection): value is IORedisClient {
  return (
    typeof value === 'object' &&
    typeof (value as { sendCommand?: unknown }).sendCommand === 'function'
  );
}

/**
 * Makes the commands a connection sends in one turn of the event loop leave together: the socket
 * is corked at the first write and uncorked on the next tick, so what the turn writes goes out in
 * one system call (two when its first write comes before its promise jobs, which write too: a
 * tick queued from them runs once they are all done). ioredis writes every command on its own,
 * and on this kind of machine a socket write costs ~20-50 µs whatever its size: a pod's step
 * calls, claims and index touches of one turn cost one. ioredis's `enableAutoPipelining` batches
 * too, but builds a pipeline per turn and was measured slower (docs/PERFORMANCE.md); corking adds
 * nothing per command and no wait. Only on connections the engine opens: an app's own client is
 * left as it is.
 */
function writeOncePerTurn(client: Redis): void {
  client.on('connect', () => {
    const stream = client.stream as Writable | undefined;
    if (!stream || typeof stream.cork !== 'function') return;
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    let corked = false;
    const uncork = (): void => {
      corked = false;
      stream.uncork();
    };
    stream.write = (...args: unknown[]): boolean => {
      if (!corked) {
        corked = true;
        stream.cork();
        process.nextTick(uncork);
      }
      return write(...args);
    };
  });
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
 * `enqueueAndWait` (opened on first use). Start-up is bounded ({@link start}); after it, outages
 * are reported once each (lost, restored), not per reconnection attempt.
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
  /** Stops following each client, for the clients followed. */
  private readonly unfollow = new Map<RedisClient, () => void>();
  private readonly monitor: ConnectionMonitor;
  private blockingClient?: RedisClient;
  /** Settle the blocking waits under way when {@link interruptBlocking} closes their client. */
  private readonly interruptWaits = new Set<() => void>();
  private subscriberClient?: RedisClient;

  constructor(
    private readonly config: RedisConnection,
    private readonly connectionName: string,
    events: ConnectionEvents = UNHEARD,
    now: () => number = Date.now,
  ) {
    this.monitor = new ConnectionMonitor(
      {
        lost: (problem) => events.lost(problem, this.target()),
        restored: (downtimeMs) => events.restored(downtimeMs, this.target()),
        error: (error, context) => events.error(error, context),
      },
      now,
    );
    if (isClient(config)) {
      // The app's own Redis or Cluster, perhaps from another copy of ioredis: same API.
      this.command = config as RedisClient;
      this.follow(this.command, 'cmd');
    } else {
      this.command = this.open('cmd');
      if (!isCluster(this.command)) writeOncePerTurn(this.command);
    }
    this.command.on('close', this.countClose);
  }

  private readonly countClose = (): void => {
    this.commandEpoch += 1;
  };

  /** Where Redis is, for messages: `host:port`, a socket, Sentinels or Cluster nodes. */
  target(): string {
    return describeRedisTarget(this.command);
  }

  /**
   * Runs start-up `work` while the command connection makes its first connection; rejects with
   * RedisConnectionError when it fails for good (credentials, TLS) or takes over `timeoutMs`.
   * Outages are reported from then on.
   */
  async start<T>(timeoutMs: number, work: () => Promise<T>): Promise<T> {
    const result = await firstConnect(this.command, timeoutMs, work);
    this.monitor.arm();
    return result;
  }

  /** The dedicated blocking connection; created on first use. */
  get blocking(): RedisClient {
    if (!this.blockingClient) {
      this.blockingClient = this.open('blk');
      this.blockingClient.on('close', () => (this.blockingEpoch += 1));
    }
    return this.blockingClient;
  }

  /**
   * Runs a blocking command on the blocking connection; resolves `undefined` at once when
   * {@link interruptBlocking} closes that connection under it. ioredis leaves a command pending
   * forever when its client is disconnected while waiting to reconnect (the commands of the lost
   * connection are only resent or failed once it is ready again: redis/ioredis#2197), so a stop
   * right after an outage would otherwise wait on this command for good.
   */
  block<T>(command: (client: RedisClient) => Promise<T>): Promise<T | undefined> {
    let interrupt!: () => void;
    const interrupted = new Promise<undefined>((resolve) => {
      interrupt = () => resolve(undefined);
    });
    this.interruptWaits.add(interrupt);
    return Promise.race([command(this.blocking), interrupted]).finally(() =>
      this.interruptWaits.delete(interrupt),
    );
  }

  /**
   * Waits for `work` while Redis can be reached: resolves `true` once it settles, `false` once
   * the command connection has been down for `downMs` without a break (its commands would only
   * be answered after Redis is back).
   */
  async settlesWhileReachable(work: Promise<unknown>, downMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<false>((resolve) => {
      let downSince: number | undefined;
      timer = setInterval(
        () => {
          if (this.command.status === 'ready') downSince = undefined;
          // A duration of this process: the monotonic clock, whatever the wall clock does.
          else if (downSince === undefined) downSince = performance.now();
          else if (performance.now() - downSince >= downMs) resolve(false);
        },
        Math.min(100, downMs),
      );
    });
    try {
      return await Promise.race([
        work.then(
          () => true,
          () => true,
        ),
        gaveUp,
      ]);
    } finally {
      clearInterval(timer);
    }
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
    this.follow(client, role);
    this.owned.push(client);
    return client;
  }

  private follow(client: RedisClient, role: string): void {
    this.unfollow.set(client, this.monitor.follow(client, `${this.connectionName}:${role}`));
  }

  /** Closes a client of ours on purpose: no longer followed, its last errors unheard. */
  private release(client: RedisClient): void {
    this.unfollow.get(client)?.();
    this.unfollow.delete(client);
    client.on('error', () => undefined); // ioredis prints errors nobody listens to
  }

  /** Interrupts a blocking wait: closes the blocking connection; the next use reopens it. */
  interruptBlocking(): void {
    const client = this.blockingClient;
    if (!client) return;
    this.blockingClient = undefined;
    this.owned.splice(this.owned.indexOf(client), 1);
    this.release(client);
    client.disconnect();
    for (const interrupt of this.interruptWaits) interrupt();
  }

  /** Closes the connections opened here (a client you passed in stays open). */
  async close(): Promise<void> {
    this.monitor.disarm();
    this.command.off('close', this.countClose);
    for (const stop of this.unfollow.values()) stop();
    this.unfollow.clear();
    const clients = this.owned.splice(0);
    this.blockingClient = undefined;
    for (const interrupt of this.interruptWaits) interrupt();
    this.subscriberClient = undefined;
    await Promise.all(
      clients.map(async (c) => {
        this.release(c);
        // QUIT waits for a connection that may never come (Redis down, start-up failed).
        if (c.status !== 'ready') {
          c.disconnect();
          return;
        }
        try {
          await c.quit();
        } catch {
          c.disconnect(); // already closed or unreachable: drop the socket
        }
      }),
    );
  }
}
