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
