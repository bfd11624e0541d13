// Public API of atomic-queues. Everything a user may import is named here; nothing else is public.
export { AtomicEngine } from './core/engine';
export type {
  EnqueueOptions,
  EnqueueAndWaitOptions,
  ActiveEntity,
  EngineStats,
} from './core/engine';
export type { JobContext, EntityJobHandler } from './core/job-context';
export type {
  AtomicQueuesOptions,
  EntityTypeOptions,
  WorkerConfig,
  BackoffOptions,
  RedisConnection,
} from './core/options';
export { MAX_ENTITY_ID_BYTES } from './core/entity-id';
export { JobFailedError, JobTimeoutError } from './core/reply-router';
export {
  AtomicQueuesError,
  EngineStateError,
  EnqueueTimeoutError,
  InvalidEntityIdError,
  InvalidOptionsError,
  InvalidPayloadError,
  LeaseLostError,
  UnknownEntityTypeError,
} from './errors';
export { LIBRARY_VERSION } from './version';

// NestJS module ─────────────────────────────────────────────────────────────────────────────
export { AtomicQueuesModule } from './nest/atomic-queues.module';
export { ATOMIC_QUEUES_OPTIONS } from './nest/atomic-queues.module-definition';
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
export { QueueBus } from './nest/queue-bus.service';
export type {
  BulkCommand,
  EntityTarget,
  ProcessorTarget,
} from './nest/interfaces/queue-bus-targets.interface';
export { WorkerManagerService } from './nest/services/worker-manager.service';
export type { ClusterEntity } from './nest/services/worker-manager.service';
export type { EntityBacklog } from './core/engine';
export { SpawnQueueService } from './nest/services/spawn-queue.service';
export type { SpawnRequest } from './nest/services/spawn-queue.service';
export { QueueEventsManagerService } from './nest/services/queue-events-manager.service';
export type {
  AtomicQueuesEvents,
  EntityClaimedEvent,
  EntityReleasedEvent,
  JobCompletedEvent,
  JobFailedEvent,
} from './nest/interfaces/queue-events.interface';
export { ProcessorDiscoveryService } from './nest/services/processor-discovery.service';
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
