import type { EventEmitter } from 'node:events';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AtomicEngine, type QueueEngine, type AtomicQueuesEvents } from '../../core';

type Listener<E extends keyof AtomicQueuesEvents> = (...args: AtomicQueuesEvents[E]) => void;

/**
 * Subscribes to what happens on this pod: entities claimed and released, leases lost, jobs
 * completed and failed, Redis lost and restored, background errors. Listeners run synchronously in the engine: keep them
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

  constructor(@Inject(AtomicEngine) private readonly engine: QueueEngine) {}

  /** Calls `listener` on every `event`; returns a function that unsubscribes it. */
  on<E extends keyof AtomicQueuesEvents>(event: E, listener: Listener<E>): () => void {
    // A handler of its own per subscription: the same listener subscribed twice is called twice
    // and unsubscribed once per `off`.
    const handler = (...args: unknown[]): void => listener(...(args as AtomicQueuesEvents[E]));
    const emitter = this.engine as unknown as EventEmitter;
    emitter.on(event, handler);
    const off = (): void => {
      emitter.off(event, handler);
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
