import { types } from 'node:util';
import { InvalidPayloadError } from '../../errors';

/**
 * Checks that a job payload survives JSON and fits the size limit; throws InvalidPayloadError
 * naming the offending path. JSON.stringify alone would silently drop functions and symbols, and
 * empty a Map or Set.
 * Returns the JSON as BullMQ stores a job's data (`{}` for undefined).
 */
export function checkPayload(jobName: string, data: unknown, maxBytes: number): string {
  // The walk that names the offending path builds a path string per value; most payloads are
  // fine, so a walk that builds nothing goes first and the naming one runs only to explain.
  if (!carriedByJson(data, 0)) findUnserializable(jobName, data, '$', new Set());
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (err) {
    throw new InvalidPayloadError(
      jobName,
      `it does not serialize to JSON (${(err as Error).message})`,
      { cause: err },
    );
  }
  if (json === undefined) return '{}';
  // Bytes are at most 3 per UTF-16 unit: short payloads skip the count.
  const bytes = json.length * 3 <= maxBytes ? 0 : Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) {
    throw new InvalidPayloadError(
      jobName,
      `its JSON is ${bytes} bytes, over the ${maxBytes}-byte limit (maxPayloadBytes)`,
    );
  }
  return json;
}

/** Payloads nested deeper than this are left to the naming walk (it detects cycles). */
const FAST_DEPTH = 32;

/** True when JSON carries `value` whole (as {@link findUnserializable} would find nothing). */
function carriedByJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'function':
    case 'symbol':
    case 'bigint':
      return false;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return true;
  }
  if (value === null) return true;
  const obj = value as Record<string, unknown>;
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') return true;
  if (depth >= FAST_DEPTH) return false;
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) if (!carriedByJson(obj[i], depth + 1)) return false;
    return true;
  }
  // A plain object needs no check of its kind (a Map, a RegExp, ... is never one).
  const proto: unknown = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null && lostByJson(obj) !== undefined) return false;
  for (const key in obj) {
    if (Object.prototype.hasOwnProperty.call(obj, key) && !carriedByJson(obj[key], depth + 1))
      return false;
  }
  return true;
}

function findUnserializable(
  jobName: string,
  value: unknown,
  path: string,
  seen: Set<object>,
): void {
  switch (typeof value) {
    case 'function':
      throw new InvalidPayloadError(jobName, `${path} is a function, which JSON cannot carry`);
    case 'symbol':
      throw new InvalidPayloadError(jobName, `${path} is a symbol, which JSON cannot carry`);
    case 'bigint':
      throw new InvalidPayloadError(
        jobName,
        `${path} is a BigInt, which JSON cannot carry (send it as a string)`,
      );
    case 'number':
      if (!Number.isFinite(value))
        throw new InvalidPayloadError(jobName, `${path} is ${value}, which JSON turns into null`);
      return;
    case 'object':
      break;
    default:
      return;
  }
  if (value === null) return;
  const obj = value as Record<string, unknown>;
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') return; // Date, Buffer, ...
  const lost = lostByJson(obj);
  if (lost !== undefined) throw new InvalidPayloadError(jobName, `${path} is ${lost}`);
  if (seen.has(obj))
    throw new InvalidPayloadError(jobName, `${path} refers back to itself (a cycle)`);
  seen.add(obj);
  if (Array.isArray(obj)) {
    obj.forEach((item, i) => findUnserializable(jobName, item, `${path}[${i}]`, seen));
  } else {
    for (const key of Object.keys(obj))
      findUnserializable(jobName, obj[key], `${path}.${key}`, seen);
  }
  seen.delete(obj);
}

/**
 * Built-in objects (without a `toJSON`, unlike Date and Buffer) whose contents JSON.stringify
 * drops without a word, e.g. a Map becomes `{}`: what they are and what to send instead.
 */
function lostByJson(value: object): string | undefined {
  if (types.isMap(value))
    return 'a Map, which JSON turns into `{}` (send `Object.fromEntries(map)` or `[...map]`)';
  if (types.isSet(value)) return 'a Set, which JSON turns into `{}` (send `[...set]`)';
  if (
    types.isWeakMap(value) ||
    types.isWeakSet(value) ||
    value instanceof WeakRef ||
    types.isPromise(value)
  )
    return `${named(value)}, which JSON cannot carry`;
  if (types.isRegExp(value))
    return 'a RegExp, which JSON turns into `{}` (send its `source` and `flags`)';
  if (types.isNativeError(value) || value instanceof Error)
    return 'an Error, which JSON turns into `{}` (send its `message` and fields)';
  if (types.isTypedArray(value) || types.isAnyArrayBuffer(value) || types.isDataView(value))
    return `${named(value)}, which JSON does not keep (send an array or a base64 string)`;
  return undefined;
}

/** `a Uint8Array`, `an ArrayBuffer`. */
function named(value: object): string {
  const name = value.constructor.name;
  return `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}`; // a Uint8Array
}
