import type { EnqueueAndWaitOptions, EnqueueOptions } from '../../core';

/** Raw named jobs for the entity type of a `@WorkerProcessor` (`QueueBus.forProcessor`). */
export interface ProcessorTarget {
  readonly entityType: string;
  /** Stores a job named `jobName` for `entityId`; resolves with its id once Redis has it. */
  enqueue(
    jobName: string,
    entityId: string | number,
    data?: unknown,
    opts?: EnqueueOptions,
  ): Promise<string>;
  /** Enqueues and resolves with the handler's result, or rejects with its error. */
  enqueueAndWait<T = unknown>(
    jobName: string,
    entityId: string | number,
    data?: unknown,
    opts?: EnqueueAndWaitOptions,
  ): Promise<T>;
}

/** Raw named jobs for one entity (`QueueBus.forEntity`). */
export interface EntityTarget {
  readonly entityType: string;
  readonly entityId: string;
  enqueue(jobName: string, data?: unknown, opts?: EnqueueOptions): Promise<string>;
  enqueueAndWait<T = unknown>(
    jobName: string,
    data?: unknown,
    opts?: EnqueueAndWaitOptions,
  ): Promise<T>;
}

/** One item of `QueueBus.enqueueBulk` when it needs its own options. */
export interface BulkCommand {
  command: object;
  opts?: EnqueueOptions;
}
