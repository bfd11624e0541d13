// Public API of atomic-queues. Everything a user may import is named here; nothing else is public.
export { AtomicEngine, MAX_ENTITY_ID_BYTES, METRIC_NAMES, bullBoardQueues } from './core';
export type {
  ActiveEntity,
  AtomicQueuesEvents,
  AtomicQueuesLogger,
  AtomicQueuesOptions,
  BackoffOptions,
  BulkJob,
  BullBoardQueuesOptions,
  BullBoardSource,
  ClusterEntity,
  EngineHealth,
  EngineState,
  EngineStats,
  EnqueueAndWaitOptions,
  EnqueueOptions,
  EntityBacklog,
  EntityClaimedEvent,
  EntityDetails,
  EntityPage,
  EntityScanOptions,
  EntityState,
  EntitySummary,
  EntityJobHandler,
  EntityReleasedEvent,
  DurabilityOptions,
  EntityTypeOptions,
  FailedEntity,
  FailedJob,
  FailedJobIds,
  HealthOptions,
  HealthStatus,
  JobCompletedEvent,
  JobContext,
  JobFailedEvent,
  JobRetryingEvent,
  JobFinishedEvent,
  LeaseHealth,
  ListPage,
  LoopHealth,
  MetricsOptions,
  RebalanceOptions,
  PageOptions,
  PodInfo,
  PrometheusRegistry,
  QueueEngine,
  RedisConnection,
  RedisHealth,
  RedisLostEvent,
  RedisRestoredEvent,
  ReleaseReason,
  RemoveFailedJobsResult,
  ResolvedEntityType,
  RetryFailedJobsResult,
  SkipNextJobResult,
  SpawnRequest,
  WaitForJobOptions,
  WorkerConfig,
} from './core';
export {
  AtomicQueuesError,
  EngineStateError,
  EnqueueFailedError,
  EntityNotPausedError,
  EnqueueTimeoutError,
  InvalidEntityIdError,
  InvalidOptionsError,
  InvalidPayloadError,
  JobFailedError,
  JobNotFoundError,
  JobTimeoutError,
  LeaseLostError,
  NoHandlerError,
  RedisConnectionError,
  RedisRefusedError,
  ReplicationTimeoutError,
  UnknownEntityTypeError,
} from './errors';
export type {
  AtomicQueuesErrorCode,
  LeaseLostReason,
  RedisConnectionReason,
  RedisRefusalReason,
  SerializedError,
} from './errors';
export { LIBRARY_VERSION } from './version';

// NestJS module ─────────────────────────────────────────────────────────────────────────────
export { AtomicQueuesModule } from './nest/atomic-queues.module';
export { ATOMIC_QUEUES_OPTIONS } from './nest/atomic-queues.module-definition';
export type { AtomicQueuesFeatureOptions } from './nest/interfaces/atomic-queues-feature-options.interface';
export type {
  AtomicQueuesModuleOptions,
  AtomicQueuesOptionsFactory,
} from './nest/interfaces/atomic-queues-module-options.interface';
export { QueueEntity } from './nest/decorators/queue-entity.decorator';
export { QueueEntityId } from './nest/decorators/queue-entity-id.decorator';
export { WorkerProcessor } from './nest/decorators/worker-processor.decorator';
export type { WorkerProcessorOptions } from './nest/interfaces/worker-processor-options.interface';
export { JobHandler } from './nest/decorators/job-handler.decorator';
export { JobCommand } from './nest/decorators/job-command.decorator';
export { JobQuery } from './nest/decorators/job-query.decorator';
export { currentJobContext } from './nest/job-context.storage';
export { QueueCommand } from './nest/commands/queue-command';
export type { CommandResult, QueueMessage } from './nest/commands/queue-command';
export { QueueBus } from './nest/queue-bus.service';
export type {
  BulkCommand,
  EntityTarget,
  ProcessorTarget,
} from './nest/interfaces/queue-bus-targets.interface';
export { WorkerManagerService } from './nest/services/worker-manager.service';
export { SpawnQueueService } from './nest/services/spawn-queue.service';
export { QueueEventsManagerService } from './nest/services/queue-events-manager.service';
export { ProcessorDiscoveryService } from './nest/services/processor-discovery.service';
export { AtomicQueuesHealthIndicator } from './nest/health/atomic-queues-health.indicator';
export type { AtomicQueuesHealthResult } from './nest/health/atomic-queues-health.indicator';
export type {
  DiscoveredCqrsRoute,
  DiscoveredProcessor,
} from './nest/services/processor-discovery.service';
export {
  CqrsUnavailableError,
  DuplicateEntityIdError,
  DuplicateJobNameError,
  DuplicateRouteError,
  EntityIdParameterError,
  MissingEntityIdError,
  MissingQueueEntityError,
  NoRouteError,
  NotAProcessorError,
} from './errors';
