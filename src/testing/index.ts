// `atomic-queues/testing`: the test backend. An engine with AtomicEngine's behaviour in memory
// (no Redis), helpers to drive it from a test, and AtomicQueuesModule's drop-in for
// `Test.createTestingModule`. README "Testing" says how to use it and what it does not model.
export { InMemoryEngine, ManualClock } from '../core';
export type { Clock, ClockTimer, InMemoryEngineOptions, JobRun } from '../core';
export { AtomicQueuesTestingModule } from '../nest/atomic-queues-testing.module';
export type {
  AtomicQueuesTestingModuleAsyncOptions,
  AtomicQueuesTestingModuleOptions,
} from '../nest/atomic-queues-testing.module';
