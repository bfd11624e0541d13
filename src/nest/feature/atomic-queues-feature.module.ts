import { Module, type DynamicModule } from '@nestjs/common';
import { checkEntityTypeKeys, type EntityTypeOptions } from '../../core';
import { InvalidOptionsError } from '../../errors';
import type { AtomicQueuesFeatureOptions } from '../interfaces/atomic-queues-feature-options.interface';
import { AtomicQueuesFeature } from './atomic-queues-feature';

/** The module `forFeature()` returns: it only provides its AtomicQueuesFeature. */
@Module({})
export class AtomicQueuesFeatureModule {}

/** Tells the providers of two forFeature() calls apart (Nest merges equal dynamic modules). */
let features = 0;

/** `AtomicQueuesModule.forFeature(options)`: the options checked now, as a decorator's are. */
export function featureModule(options: AtomicQueuesFeatureOptions): DynamicModule {
  const at = 'AtomicQueuesModule.forFeature() entities';
  const raw: unknown = (options as Partial<AtomicQueuesFeatureOptions> | undefined)?.entities;
  if (typeof raw !== 'object' || raw === null)
    throw new InvalidOptionsError(at, 'an array of entity type names or an object', raw);
  const entities = new Map<string, EntityTypeOptions>();
  const pairs: [unknown, unknown][] = Array.isArray(raw)
    ? raw.map((type: unknown) => [type, {}])
    : Object.entries(raw);
  for (const [type, settings] of pairs) {
    if (typeof type !== 'string' || type === '')
      throw new InvalidOptionsError(`${at}[]`, 'an entity type name', type);
    if (entities.has(type))
      throw new InvalidOptionsError(`${at}.${type}`, 'an entity type named once', type);
    if (typeof settings !== 'object' || settings === null)
      throw new InvalidOptionsError(`${at}.${type}`, 'an object of entity type options', settings);
    checkEntityTypeKeys(settings, `${at}.${type}`);
    entities.set(type, settings);
  }
  features += 1;
  return {
    module: AtomicQueuesFeatureModule,
    providers: [
      {
        provide: `atomic-queues:feature:${features}`,
        useValue: new AtomicQueuesFeature(entities),
      },
    ],
  };
}
