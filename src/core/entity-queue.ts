import { EventEmitter } from 'node:events';
import type { IQueueBackend, KeysMap, WorkerOptions } from 'bullmq';

/**
 * The small queue object BullMQ's `Job` needs, bound to one entity's queue over the pod's shared
 * connection. A full BullMQ `Queue` per entity would cost a connection wrapper, listeners and a
 * version check each; this costs a key map.
 */
export class EntityQueue extends EventEmitter {
  readonly closing: Promise<void> | undefined = undefined;

  constructor(
    readonly name: string,
    readonly backend: IQueueBackend,
    readonly opts: Omit<WorkerOptions, 'connection'>,
  ) {
    super();
  }

  get qualifiedName(): string {
    return this.backend.qualifiedName;
  }

  get keys(): KeysMap {
    return this.backend.keys;
  }

  toKey = (type: string): string => this.backend.toKey(type);

  waitUntilReady(): Promise<void> {
    return this.backend.waitUntilReady();
  }

  async trace<T>(
    _kind: unknown,
    _op: string,
    _dst: string,
    callback: () => Promise<T> | T,
  ): Promise<T> {
    return callback();
  }
}
