import type { EntityTypeOptions } from '../../core';

/**
 * Options of `AtomicQueuesModule.forFeature()`: the entity types a feature module declares,
 * as names (default settings) or as `{ [type]: settings }` like the root's `entities`.
 */
export interface AtomicQueuesFeatureOptions {
  entities: readonly string[] | Readonly<Record<string, EntityTypeOptions>>;
}
