import { EngineStateError } from '../errors';
import type { EntityCatalog } from './entities/entity-catalog';
import type { Pod } from './pod';

/**
 * What the engine's public methods reach behind its public surface, kept off the classes (and
 * so out of the published declarations, which would otherwise pull in the types of every part
 * and of the optional peers those parts load).
 */
interface EngineInternals {
  readonly catalog: EntityCatalog;
  pod(): Pod | undefined;
}

const internals = new WeakMap<object, EngineInternals>();

export function attachInternals(engine: object, inside: EngineInternals): void {
  internals.set(engine, inside);
}

export function internalsOf(engine: object): EngineInternals {
  const inside = internals.get(engine);
  if (!inside) throw new EngineStateError('Not an engine');
  return inside;
}

/** The engine's running pod; EngineStateError before `start()` resolved or after `stop()`. */
export function startedPod(engine: object): Pod {
  const pod = internalsOf(engine).pod();
  if (!pod) throw new EngineStateError('The engine is not started: call start() first');
  return pod;
}
