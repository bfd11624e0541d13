import type { EntityTypeOptions } from './atomic-queues-options';
import { checkEntityTypeKeys } from './option-keys';
import { check, isInt, isNum, isOptFn } from './option-checks';
import type { ResolvedEntityType, ResolvedOptions } from './resolved-options';

/** What an entity type (and a worker name) may be made of: safe in key names and hash tags. */
export const NAME = /^[A-Za-z0-9_.]+$/;

/**
 * One entity type's settings: its options over `defaults` (the engine's `workerDefaults` and
 * DEFAULTS), checked; throws InvalidOptionsError naming `entities.<type>.<option>`.
 */
export function resolveEntityType(
  type: string,
  raw: EntityTypeOptions,
  defaults: Omit<ResolvedEntityType, 'type'>,
): ResolvedEntityType {
  const at = `entities.${type}`;
  check(typeof raw === 'object' && raw !== null && !Array.isArray(raw), at, 'an object', raw);
  checkEntityTypeKeys(raw, at);
  check(isOptFn(raw.queueName), `${at}.queueName`, 'a function (id) => string', raw.queueName);
  check(isOptFn(raw.workerName), `${at}.workerName`, 'a function (id) => string', raw.workerName);
  const w = raw.workerConfig ?? {};
  const out: ResolvedEntityType = {
    type,
    queueName: raw.queueName,
    workerName: raw.workerName ?? ((id) => `${type}-${id}-worker`),
    maxWorkersPerEntity: raw.maxWorkersPerEntity ?? defaults.maxWorkersPerEntity,
    idleTimeoutMs:
      raw.idleTimeoutSeconds !== undefined ? raw.idleTimeoutSeconds * 1000 : defaults.idleTimeoutMs,
    defaultEntityId: raw.defaultEntityId,
    concurrency: w.concurrency ?? defaults.concurrency,
    attempts: raw.attempts ?? defaults.attempts,
    backoff: raw.backoff,
    onFailure: raw.onFailure ?? defaults.onFailure,
    maxStalledCount: raw.maxStalledCount ?? defaults.maxStalledCount,
    batchSize: raw.batchSize ?? defaults.batchSize,
    events: raw.events ?? defaults.events,
    removeOnComplete: raw.removeOnComplete ?? defaults.removeOnComplete,
    removeOnFail: raw.removeOnFail ?? defaults.removeOnFail,
  };
  check(
    isInt(out.maxWorkersPerEntity, 1),
    `${at}.maxWorkersPerEntity`,
    'an integer ≥ 1',
    raw.maxWorkersPerEntity,
  );
  check(
    isNum(out.idleTimeoutMs, 0),
    `${at}.idleTimeoutSeconds`,
    'a number ≥ 0',
    raw.idleTimeoutSeconds,
  );
  check(
    isInt(out.concurrency, 1),
    `${at}.workerConfig.concurrency`,
    'an integer ≥ 1',
    w.concurrency,
  );
  check(isInt(out.attempts, 1), `${at}.attempts`, 'an integer ≥ 1', raw.attempts);
  check(
    out.onFailure === 'continue' || out.onFailure === 'pause',
    `${at}.onFailure`,
    "'continue' or 'pause'",
    raw.onFailure,
  );
  check(
    isInt(out.batchSize, 1) && out.batchSize <= 1000,
    `${at}.batchSize`,
    'an integer from 1 to 1000',
    raw.batchSize,
  );
  check(typeof out.events === 'boolean', `${at}.events`, 'a boolean', raw.events);
  check(
    isInt(out.maxStalledCount, 0),
    `${at}.maxStalledCount`,
    'an integer ≥ 0',
    raw.maxStalledCount,
  );
  check(
    out.defaultEntityId === undefined ||
      (typeof out.defaultEntityId === 'string' && out.defaultEntityId.length > 0),
    `${at}.defaultEntityId`,
    'a property name',
    raw.defaultEntityId,
  );
  if (out.backoff !== undefined) {
    const b = out.backoff as unknown as Record<string, unknown>;
    check(
      b.type === 'fixed' || b.type === 'exponential',
      `${at}.backoff.type`,
      "'fixed' or 'exponential'",
      b.type,
    );
    check(isNum(b.delay, 0), `${at}.backoff.delay`, 'a number of ms ≥ 0', b.delay);
  }
  checkKeep(raw.removeOnComplete, `${at}.removeOnComplete`);
  checkKeep(raw.removeOnFail, `${at}.removeOnFail`);
  return Object.freeze(out);
}

/** Resolves the settings of a type declared after startup (e.g. by a decorator). */
export function resolveLateEntityType(
  resolved: ResolvedOptions,
  type: string,
  raw: EntityTypeOptions,
): ResolvedEntityType {
  check(NAME.test(type), 'entityType', 'a type name of letters, digits, `_` or `.`', type);
  return resolveEntityType(type, raw, resolved.entityDefaults);
}

function checkKeep(v: unknown, option: string): void {
  const ok =
    v === undefined ||
    typeof v === 'boolean' ||
    isInt(v, 0) ||
    (typeof v === 'object' && v !== null && !Array.isArray(v));
  check(ok, option, 'a boolean, a count ≥ 0 or { age?, count? }', v);
}
