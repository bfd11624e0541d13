/** Public types of AtomicEngine's lifecycle and introspection. */

/** Where an engine is in its life: `start()` takes it to `started`, `stop()` to `stopped`. */
export type EngineState = 'new' | 'starting' | 'started' | 'stopping' | 'stopped';

/** One entity as `activeEntities()` reports it. */
export interface ActiveEntity {
  entityType: string;
  entityId: string;
  queueName: string;
  workerName: string;
  fencingToken: number;
  state: string;
  since: number;
  jobsProcessed: number;
}

/** Counters for introspection and benchmarks. */
export interface EngineStats {
  podId: string;
  activeEntities: number;
  claims: number;
  releases: number;
  /** Entities handed over to pods below their fair share (rebalancing, README G5). */
  rebalanced: number;
  leasesLost: number;
  jobsCompleted: number;
  jobsFailed: number;
}
