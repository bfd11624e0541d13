import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AtomicEngine } from '../../core/engine';
import type { AtomicQueuesEvents } from '../interfaces/queue-events.interface';

type Listener<E extends keyof AtomicQueuesEvents> = (...args: AtomicQueuesEvents[E]) => void;

/**
 * Subscribes to what happens on this pod: entities claimed and released, leases lost, jobs
 * completed and failed, background errors. Listeners run synchronously in the engine: keep them
 * short and never throw. Subscriptions end when the application closes.
 *
 * @example
 * ```ts
 * const off = events.on('job:failed', (e) => metrics.failed(e.entityType, e.name));
 * ```
 */
@Injectable()
export class QueueEventsManagerService implements OnModuleDestroy {
  private readonly subscriptions = new Set<() => void>();

  constructor(private readonly engine: AtomicEngine) {}

  /** Calls `listener` on every `event`; returns a function that unsubscribes it. */
  on<E extends keyof AtomicQueuesEvents>(event: E, listener: Listener<E>): () => void {
    const handler = (...args: unknown[]): void => listener(...(args as AtomicQueuesEvents[E]));
    this.engine.on(event, handler);
    const off = (): void => {
      this.engine.off(event, handler);
      this.subscriptions.delete(off);
    };
    this.subscriptions.add(off);
    return off;
  }

  /** Like {@link on}, for the next `event` only. */
  once<E extends keyof AtomicQueuesEvents>(event: E, listener: Listener<E>): () => void {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  onModuleDestroy(): void {
    for (const off of [...this.subscriptions]) off();
  }
}
