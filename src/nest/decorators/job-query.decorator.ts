import type { ClassType } from '../interfaces/class-type.interface';
import { QueueEntityAccessor } from '../metadata/queue-entity.accessor';
import { jobNames } from '../registry/job-name.registry';

/**
 * Marks a query class and, optionally, gives it an explicit job name: the name jobs of this
 * class carry in Redis and are revived by on every pod. Give one whenever class names may change
 * (renames, minified builds). Jobs of the class go to the QueryBus of `@nestjs/cqrs`.
 */
export function JobQuery(name?: string) {
  return (target: ClassType): void => {
    QueueEntityAccessor.setKind(target, 'query');
    if (name === undefined) jobNames.registerImplicit(target);
    else jobNames.registerExplicit(target, name);
  };
}
