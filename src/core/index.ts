// The engine's surface: what the package exports from the core, and all that adapters (the Nest
// module) may use. Nothing else under src/core is reachable from outside it.
export { AtomicEngine } from './engine';
export type { ActiveEntity, EngineState, EngineStats } from './engine-types';
export type { QueueEngine } from './queue-engine';
export type { ClusterEntity, EntityBacklog, SpawnRequest } from './admin/entity-admin';
export type {
  EntityDetails,
  EntityPage,
  EntityScanOptions,
  EntityState,
  EntitySummary,
  PodInfo,
} from './admin/entity-scan';
export { bullBoardQueues } from './admin/bull-board-queues';
export type { BullBoardQueuesOptions, BullBoardSource } from './admin/bull-board-queues';
export type {
  FailedEntity,
  FailedJob,
  FailedJobIds,
  ListPage,
  PageOptions,
  RemoveFailedJobsResult,
  RetryFailedJobsResult,
  SkipNextJobResult,
} from './admin/failed-jobs';
export type { BulkJob, WaitForJobOptions } from './producing/job-request';
export type { EnqueueAndWaitOptions, EnqueueOptions } from './producing/job-request';
export type { EntityJobHandler, JobContext } from './entities/job-context';
export { MAX_ENTITY_ID_BYTES, normalizeEntityId } from './entities/entity-id';
export type {
  EngineHealth,
  HealthOptions,
  HealthStatus,
  LeaseHealth,
  LoopHealth,
  RedisHealth,
} from './observability/health';
export { METRIC_NAMES } from './observability/engine-metrics';
export type { PrometheusRegistry } from './observability/prometheus';
export type {
  AtomicQueuesOptions,
  BackoffOptions,
  EntityTypeOptions,
  DurabilityOptions,
  MetricsOptions,
  RebalanceOptions,
  RedisConnection,
  WorkerConfig,
} from './options/atomic-queues-options';
export type { ResolvedEntityType } from './options/resolved-options';
export { checkEntityTypeKeys } from './options/option-keys';
export type {
  AtomicQueuesEvents,
  EntityClaimedEvent,
  EntityReleasedEvent,
  JobCompletedEvent,
  JobFailedEvent,
  JobRetryingEvent,
  JobFinishedEvent,
  RedisLostEvent,
  RedisRestoredEvent,
  ReleaseReason,
} from './events';
export type { AtomicQueuesLogger } from './logger';
// The test backend (served as `atomic-queues/testing`, not by the main entry).
export { InMemoryEngine } from './memory/in-memory-engine';
export type { InMemoryEngineOptions } from './memory/in-memory-options';
export type { JobRun } from './memory/memory-job';
export { ManualClock } from './clock';
export type { Clock, ClockTimer } from './clock';
