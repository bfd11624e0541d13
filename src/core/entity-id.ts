import { InvalidEntityIdError } from '../errors';

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

/**
 * Encodes a string so that it can sit inside a BullMQ queue name and a Redis Cluster hash tag:
 * everything but `[A-Za-z0-9_.~]` becomes `%XX` of its UTF-8 bytes. The mapping is injective and
 * its output never holds `:`, `{`, `}`, `-` or white space, so no id can reach another's keys.
 */
export function encodeKeySegment(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const isSafe =
      (byte >= 0x30 && byte <= 0x39) || // 0-9
      (byte >= 0x41 && byte <= 0x5a) || // A-Z
      (byte >= 0x61 && byte <= 0x7a) || // a-z
      byte === 0x5f || // _
      byte === 0x2e || // .
      byte === 0x7e; // ~
    out += isSafe
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
