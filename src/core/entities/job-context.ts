import type { Job } from 'bullmq';

/** What a handler learns about the job it runs, besides the job itself. */
export interface JobContext {
  readonly entityType: string;
  readonly entityId: string;
  /**
   * Monotonic per entity: it grows every time a pod acquires the entity. Pass it to your store
   * and reject writes that carry a smaller token than one already seen: that is how a pod that
   * paused past its lease is kept from writing after another pod took over.
   */
  readonly fencingToken: number;
  /** 1 on the first run, 2 on the first retry, ... */
  readonly attempt: number;
  /** Id of the pod running the job. */
  readonly podId: string;
}

/**
 * Runs one job of an entity; its return value is the job's result. `T` is the type of
 * `job.data` as the handler declares it (`registerHandler<T>()`): the job's payload as enqueued,
 * through JSON, which the engine does not check against `T`.
 */
export type EntityJobHandler<T = unknown> = (job: Job<T, unknown>, context: JobContext) => unknown;
