import { AtomicQueuesError } from './atomic-queues.error';

/** The engine was used in a state where the call makes no sense (not started, or stopping). */
export class EngineStateError extends AtomicQueuesError {
  constructor(message: string) {
    super('ENGINE_STATE', message);
  }
}
