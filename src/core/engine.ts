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
import { EngineCore } from './engine-core';
import { internalsOf, startedPod } from './engine-internals';
import type { QueueEngine } from './queue-engine';
import type {
  BulkJob,
  EnqueueAndWaitOptions,
  EnqueueOptions,
  WaitForJobOptions,
} from './producing/job-request';

/**
 * The framework-free engine: per-entity sequential execution over BullMQ queues, with leases,
 * fencing tokens and a fixed number of Redis connections per pod. A façade: lifecycle, the
 * enqueue family, admin and introspection; the work is done by the parts of {@link Pod}.
 * docs/DESIGN.md maps them.
 *
 * Events (typed, see AtomicQueuesEvents): `error` (err, context), `entity:claimed`,
 * `entity:released`, `lease:lost`, `job:completed`, `job:failed`, `job:retrying`, `redis:lost`,
 * `redis:restored`. The `logger` option logs errors and outages. Operations (README): `metrics`
 * option, spans when an OpenTelemetry tracer provider is registered, `health()`.
 */
export class AtomicEngine extends EngineCore implements QueueEngine {
  // ── enqueue ────────────────────────────────────────────────────────────────

  /** Stores a job for an entity; resolves with its id once Redis has it. */
  enqueue(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts?: EnqueueOptions,
  ): Promise<string> {
    return startedPod(this).producer.enqueue(type, entityId, name, data, opts);
  }

  /** Enqueues and waits for the handler's result; rejects with the handler's error. */
  enqueueAndWait(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts?: EnqueueAndWaitOptions,
  ): Promise<unknown> {
    return startedPod(this).producer.enqueueAndWait(type, entityId, name, data, opts);
  }

  /**
   * Waits for the result of a job enqueued earlier (by any pod), addressed by its entity and id:
   * resolves with its result or rejects with its error (`JobFailedError`), at once when it has
   * finished; `JobNotFoundError` when no such job is stored (never enqueued, or removed by
   * retention); `JobTimeoutError` after `timeoutMs`.
   */
  waitForJob(
    type: string,
    entityId: unknown,
    jobId: string,
    opts?: WaitForJobOptions,
  ): Promise<unknown> {
    return startedPod(this).producer.waitForJob(type, entityId, jobId, opts);
  }

  /** Enqueues many jobs; resolves with their ids in order. Jobs of one entity keep their order. */
  enqueueBulk(items: ReadonlyArray<BulkJob>): Promise<string[]> {
    return startedPod(this).producer.enqueueBulk(items);
  }

  // ── admin ──────────────────────────────────────────────────────────────────

  /** Name of an entity's BullMQ queue (for BullMQ tools); checks the type and id. */
  queueName(type: string, entityId: unknown): string {
    startedPod(this);
    return internalsOf(this).catalog.handle(type, entityId).queueName;
  }

  /** Job counts of one entity's queue. */
  getBacklog(type: string, entityId: unknown): Promise<EntityBacklog> {
    return startedPod(this).admin.backlog(type, entityId);
  }

  /**
   * Entities the cluster knows of (held, or with work waiting for a holder), with the pod holding
   * each (`null` when none does right now). Reads the sweep index: cost grows with its size.
   */
  listEntities(limit?: number): Promise<ClusterEntity[]> {
    return startedPod(this).admin.list(limit);
  }

  /** Entities with work waiting for a pod to claim them, oldest first. */
  listSpawnRequests(limit?: number): Promise<SpawnRequest[]> {
    return startedPod(this).admin.spawnRequests(limit);
  }

  /** Claims an entity on this pod if it has work and no pod holds it; true when this pod got it. */
  claimEntity(type: string, entityId: unknown): Promise<boolean> {
    return startedPod(this).admin.claimIfWork(type, entityId);
  }

  /** Stops running an entity's jobs after the current one; new jobs are still accepted. */
  pauseEntity(type: string, entityId: unknown): Promise<void> {
    return startedPod(this).admin.pause(type, entityId);
  }

  /** Resumes a paused entity; its waiting jobs are picked up at once. */
  resumeEntity(type: string, entityId: unknown): Promise<void> {
    return startedPod(this).admin.resume(type, entityId);
  }

  /** Removes an entity's waiting (and, with `delayed`, delayed) jobs. Running jobs finish. */
  drainEntity(type: string, entityId: unknown, opts?: { delayed?: boolean }): Promise<void> {
    return startedPod(this).admin.drain(type, entityId, opts);
  }

  // ── failed jobs ────────────────────────────────────────────────────────────

  /** A page of an entity's failed jobs, oldest failure first (`limit` 1 to 1,000, default 100). */
  listFailedJobs(
    type: string,
    entityId: unknown,
    opts?: PageOptions,
  ): Promise<ListPage<FailedJob>> {
    return startedPod(this).failedJobs.list(type, entityId, opts);
  }

  /** A page of the entities of a type that keep failed jobs, earliest first failure first. */
  listFailedEntities(type: string, opts?: PageOptions): Promise<ListPage<FailedEntity>> {
    return startedPod(this).failedJobs.entities(type, opts);
  }

  /**
   * Puts failed jobs of an entity back at the head of its queue (oldest failure first, with
   * their attempts anew) and has the entity run them, unless it is paused. Ids that are not
   * failed jobs of the entity are reported in `notFound`: a second call changes nothing.
   */
  retryFailedJobs(
    type: string,
    entityId: unknown,
    jobIds: FailedJobIds,
  ): Promise<RetryFailedJobsResult> {
    return startedPod(this).failedJobs.retry(type, entityId, jobIds);
  }

  /** Removes failed jobs of an entity; ids that are not failed jobs of it are in `notFound`. */
  removeFailedJobs(
    type: string,
    entityId: unknown,
    jobIds: FailedJobIds,
  ): Promise<RemoveFailedJobsResult> {
    return startedPod(this).failedJobs.remove(type, entityId, jobIds);
  }

  /**
   * Moves the next waiting job of a paused entity to failed without running it (reason
   * `skipped`); the entity stays paused unless `resume: true`. `EntityNotPausedError` when the
   * entity is not paused.
   */
  skipNextJob(
    type: string,
    entityId: unknown,
    opts?: { resume?: boolean },
  ): Promise<SkipNextJobResult> {
    return startedPod(this).failedJobs.skipNext(type, entityId, opts);
  }
}
