import { InvalidEntityIdError } from '../../errors';

/** Largest entity id accepted, in UTF-8 bytes. */
export const MAX_ENTITY_ID_BYTES = 512;

// Two ids with different lone surrogates would encode to the same UTF-8 bytes, so reject them.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** An entity id as callers may pass it. Numbers are turned into their decimal string. */
export type EntityIdInput = string | number;

/**
 * Checks an entity id at the boundary and returns it as the string the engine stores.
 * Any non-empty string up to {@link MAX_ENTITY_ID_BYTES} works, including `:`, `{`, `}`, spaces
 * and non-ASCII; numbers must be finite.
 */
export function normalizeEntityId(entityType: string, id: unknown): string {
  if (typeof id === 'number') {
    if (!Number.isFinite(id))
      throw new InvalidEntityIdError(entityType, id, `expected a finite number, got ${id}`);
    return String(id);
  }
  if (typeof id !== 'string') {
    throw new InvalidEntityIdError(
      entityType,
      id,
      `expected a non-empty string or a finite number, got ${id === null ? 'null' : typeof id}`,
    );
  }
  if (id.length === 0)
    throw new InvalidEntityIdError(entityType, id, 'expected a non-empty string, got ``');
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes > MAX_ENTITY_ID_BYTES) {
    throw new InvalidEntityIdError(
      entityType,
      `${id.slice(0, 32)}...`,
      `${bytes} bytes is over the ${MAX_ENTITY_ID_BYTES}-byte limit`,
    );
  }
  if (LONE_SURROGATE.test(id)) {
    throw new InvalidEntityIdError(entityType, id, 'the string holds a lone UTF-16 surrogate');
  }
  return id;
}
