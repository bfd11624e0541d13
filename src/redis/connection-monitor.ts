import type { Cluster, Redis } from 'ioredis';
import { CLOSED, connectionProblem, type ConnectionProblem } from './connection-problem';

/** What the monitor tells its owner. */
export interface ConnectionMonitorListener {
  /** The first connection dropped: once per outage. */
  lost(problem: ConnectionProblem): void;
  /** Every connection is ready again: once per `lost`, with the milliseconds in between. */
  restored(downtimeMs: number): void;
  /** An error of a connection that is up, which is not about the connection itself. */
  error(error: unknown, context: string): void;
}

/**
 * Follows a pod's connections as one, once start-up is over (`arm`): `lost` when the first of
 * them drops, `restored` when every one is ready again. ioredis reports each failed reconnection
 * attempt as an error; those of a connection already known to be down are not passed on, so an
 * outage is one line when it starts and one when it ends.
 */
export class ConnectionMonitor {
  private readonly down = new Set<Redis | Cluster>();
  private lostAt?: number;
  private armed = false;

  constructor(
    private readonly listener: ConnectionMonitorListener,
    private readonly now: () => number,
  ) {}

  /** Starts reporting: start-up has connected. */
  arm(): void {
    this.armed = true;
  }

  /** Stops reporting: the connections are being closed on purpose. */
  disarm(): void {
    this.armed = false;
  }

  /** Follows `client` until the returned function is called (when it is closed on purpose). */
  follow(client: Redis | Cluster, name: string): () => void {
    const onError = (error: unknown): void => {
      const problem = connectionProblem(error);
      if (problem.reason === 'error' && client.status === 'ready') {
        if (this.armed) this.listener.error(error, `Redis connection ${name}`);
      } else {
        this.markDown(client, problem);
      }
    };
    const onClose = (): void => this.markDown(client, CLOSED);
    const onReady = (): void => this.markUp(client);
    client.on('error', onError);
    client.on('close', onClose);
    client.on('ready', onReady);
    return () => {
      client.off('error', onError);
      client.off('close', onClose);
      client.off('ready', onReady);
      this.markUp(client);
    };
  }

  private markDown(client: Redis | Cluster, problem: ConnectionProblem): void {
    if (!this.armed) return;
    this.down.add(client);
    if (this.lostAt !== undefined) return;
    this.lostAt = this.now();
    this.listener.lost(problem);
  }

  private markUp(client: Redis | Cluster): void {
    if (!this.down.delete(client) || this.down.size > 0 || this.lostAt === undefined) return;
    const downtimeMs = this.now() - this.lostAt;
    this.lostAt = undefined;
    if (this.armed) this.listener.restored(downtimeMs);
  }
}
