import type { EntityTypeOptions } from '../../core';

/** The entity types one `forFeature()` declares; found at bootstrap by the ProcessorExplorer. */
export class AtomicQueuesFeature {
  constructor(readonly entities: ReadonlyMap<string, EntityTypeOptions>) {}
}
