export { AtomicQueuesError } from './atomic-queues.error';
export { EngineStateError } from './engine-state.error';
export { EnqueueTimeoutError } from './enqueue-timeout.error';
export { InvalidEntityIdError } from './invalid-entity-id.error';
export { InvalidOptionsError } from './invalid-options.error';
export { InvalidPayloadError } from './invalid-payload.error';
export { LeaseLostError } from './lease-lost.error';
export { UnknownEntityTypeError } from './unknown-entity-type.error';
