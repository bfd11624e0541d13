import type { EventEmitter } from 'node:events';
import type { ClusterEntity, EntityBacklog, SpawnRequest } from './admin/entity-admin';
import type {
  FailedEntity,
  FailedJob,
  FailedJobIds,
  ListPage,
  PageOptions,
  RemoveFailedJobsResult,
  RetryFailedJobsResult,
  SkipNextJobResult,
} from './admin/failed-jobs';
import type { EntityJobHandler } from './entities/job-context';
import type { EngineHealth, HealthOptions } from './observability/health';
import type { AtomicQueuesEvents } from './events';
import type { EntityTypeOptions } from './options/atomic-queues-options';
import type { ResolvedEntityType } from './options/resolved-options';
import type { ActiveEntity, EngineStats } from './engine-types';
import type {
  BulkJob,
  EnqueueAndWaitOptions,
  EnqueueOptions,
  WaitForJobOptions,
} from './producing/job-request';

/**
 * The engine's public API, as the Nest module's services use it: implemented by AtomicEngine
 * (Redis) and by the in-memory engine of `atomic-queues/testing`, which keeps the same
 * behaviour on one process (test/conformance runs the same tests against both). Events are
 * typed (AtomicQueuesEvents).
 */
export interface QueueEngine extends EventEmitter<AtomicQueuesEvents> {
  /** Id of this pod, as handlers (`JobContext.podId`) and introspection show it. */
  readonly podId: string;

  /** Declares an entity type (or changes its settings before start). */
  registerEntityType(type: string, options?: EntityTypeOptions): void;
  /** Sets the function that runs the jobs of an entity type; declares the type if needed. */
  registerHandler(type: string, handler: EntityJobHandler): void;
  /** The declared entity types. */
  entityTypes(): string[];
  /** An entity type's settings, resolved with the defaults; undefined when it is not declared. */
  entityType(type: string): ResolvedEntityType | undefined;

  /** Starts taking work. */
  start(): Promise<void>;
  /** Graceful stop: running jobs finish, then the engine lets go of its entities. */
  stop(): Promise<void>;
  /** True between `start()` resolving and `stop()` being called. */
  isStarted(): boolean;

  /** Stores a job for an entity; resolves with its id once it is stored. */
  enqueue(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts?: EnqueueOptions,
  ): Promise<string>;
  /** Enqueues and waits for the handler's result; rejects with the handler's error. */
  enqueueAndWait(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts?: EnqueueAndWaitOptions,
  ): Promise<unknown>;
  /** Waits for the result of a job enqueued earlier, addressed by its entity and id. */
  waitForJob(
    type: string,
    entityId: unknown,
    jobId: string,
    opts?: WaitForJobOptions,
  ): Promise<unknown>;
  /** Enqueues many jobs; resolves with their ids in order. Jobs of one entity keep their order. */
  enqueueBulk(items: ReadonlyArray<BulkJob>): Promise<string[]>;

  /** Name of an entity's BullMQ queue; checks the type and id. */
  queueName(type: string, entityId: unknown): string;
  /** Job counts of one entity's queue. */
  getBacklog(type: string, entityId: unknown): Promise<EntityBacklog>;
  /** Entities known (held, or with work waiting for a holder), with the pod holding each. */
  listEntities(limit?: number): Promise<ClusterEntity[]>;
  /** Entities with work waiting for a pod to claim them, oldest first. */
  listSpawnRequests(limit?: number): Promise<SpawnRequest[]>;
  /** Claims an entity on this pod if it has work and no pod holds it; true when this pod got it. */
  claimEntity(type: string, entityId: unknown): Promise<boolean>;
  /** Stops running an entity's jobs after the current one; new jobs are still accepted. */
  pauseEntity(type: string, entityId: unknown): Promise<void>;
  /** Resumes a paused entity; its waiting jobs are picked up at once. */
  resumeEntity(type: string, entityId: unknown): Promise<void>;
  /** Removes an entity's waiting (and, with `delayed`, delayed) jobs. Running jobs finish. */
  drainEntity(type: string, entityId: unknown, opts?: { delayed?: boolean }): Promise<void>;

  /** A page of an entity's failed jobs, oldest failure first. */
  listFailedJobs(type: string, entityId: unknown, opts?: PageOptions): Promise<ListPage<FailedJob>>;
  /** A page of the entities of a type that keep failed jobs. */
  listFailedEntities(type: string, opts?: PageOptions): Promise<ListPage<FailedEntity>>;
  /** Puts failed jobs back at the head of the entity's queue, with their attempts anew. */
  retryFailedJobs(
    type: string,
    entityId: unknown,
    jobIds: FailedJobIds,
  ): Promise<RetryFailedJobsResult>;
  /** Removes failed jobs of an entity. */
  removeFailedJobs(
    type: string,
    entityId: unknown,
    jobIds: FailedJobIds,
  ): Promise<RemoveFailedJobsResult>;
  /** Fails the next waiting job of a paused entity without running it (reason `skipped`). */
  skipNextJob(
    type: string,
    entityId: unknown,
    opts?: { resume?: boolean },
  ): Promise<SkipNextJobResult>;

  /** The entities this pod runs now. */
  activeEntities(): ActiveEntity[];
  /** Is this pod fit to work? Never rejects: what is wrong is in `reasons`. */
  health(options?: HealthOptions): Promise<EngineHealth>;
  /** This pod's counters. */
  getStats(): EngineStats;
}
