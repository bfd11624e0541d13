import { Redis } from 'ioredis';

/**
 * Completion notices from worker pods to the driver, for the approaches that have no
 * request-reply of their own (the atomic-queues 1.x baseline, groupmq, raw BullMQ): a pod collects the ids of
 * the operations it finished and publishes them, comma-separated, once per event-loop turn on one
 * pub/sub channel; the driver subscribes once. One PUBLISH per batch, one connection each side.
 */
export function doneChannel(prefix: string): string {
  return `${prefix}:done`;
}

/** Pod side: `done(op)` after each finished operation. */
export class DoneNotifier {
  private pending: string[] = [];
  private scheduled = false;

  constructor(
    private readonly client: Redis,
    private readonly channel: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  done(op: string): void {
    this.pending.push(op);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const batch = this.pending.join(',');
      this.pending = [];
      this.client.publish(this.channel, batch).catch(this.onError);
    });
  }
}

/** Driver side: `wait(op)` resolves when a pod reports `op` done. */
export class DoneListener {
  private readonly waiters = new Map<string, () => void>();
  /** Notices that arrived before anyone waited for them. */
  private readonly early = new Set<string>();

  private constructor(private readonly sub: Redis) {}

  static async open(redisUrl: string, channel: string, name: string): Promise<DoneListener> {
    const sub = new Redis(redisUrl, { connectionName: name, lazyConnect: true });
    await sub.connect();
    const listener = new DoneListener(sub);
    sub.on('message', (_channel: string, message: string) => {
      for (const op of message.split(',')) listener.settle(op);
    });
    await sub.subscribe(channel);
    return listener;
  }

  private settle(op: string): void {
    const resolve = this.waiters.get(op);
    if (resolve) {
      this.waiters.delete(op);
      resolve();
    } else this.early.add(op);
  }

  /** Call before the operation is sent: a notice may arrive before the send resolves. */
  wait(op: string): Promise<void> {
    if (this.early.delete(op)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(op, resolve));
  }

  close(): void {
    this.sub.disconnect();
  }
}
