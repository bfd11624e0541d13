/** Reflect-metadata keys of the decorators. Namespaced so they never collide with Nest's own. */
export const QUEUE_ENTITY_METADATA = 'atomic-queues:queue-entity';
export const QUEUE_ENTITY_ID_METADATA = 'atomic-queues:queue-entity-id';
export const JOB_KIND_METADATA = 'atomic-queues:job-kind';
export const JOB_HANDLER_METADATA = 'atomic-queues:job-handler';

/** The name `@JobHandler` takes to catch every job its processor has no explicit handler for. */
export const WILDCARD_JOB = '*';

/** Context of the library's log lines. */
export const LOGGER_CONTEXT = 'AtomicQueues';
