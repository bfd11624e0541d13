import type { EntityTypeOptions } from '../../core';

/** Options of `@WorkerProcessor`: the entity type it processes, and that type's settings. */
export interface WorkerProcessorOptions extends EntityTypeOptions {
  /** The entity type whose jobs this processor handles. */
  entityType: string;
}
