/** An error as it travels to the pod that awaits a job, and as a failed job keeps it (`aqe`). */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  cause?: SerializedError;
  /** The error's own enumerable fields that JSON can carry (e.g. an HttpException's `status`). */
  fields?: Record<string, unknown>;
}

/** Fields every error has, or that serialization handles apart. */
const RESERVED = new Set(['name', 'message', 'stack', 'cause']);
/** Serialized fields are dropped past this many bytes of JSON. */
const MAX_FIELDS_BYTES = 16 * 1024;
const MAX_CAUSE_DEPTH = 3;

/** A thrown value as {@link SerializedError}: name, message, stack, cause and own fields. */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const out: SerializedError = { name: error.name, message: error.message };
  if (error.stack) out.stack = error.stack;
  if (error.cause !== undefined && depth < MAX_CAUSE_DEPTH)
    out.cause = serializeError(error.cause, depth + 1);
  const fields: Record<string, unknown> = {};
  let size = 0;
  for (const key of Object.keys(error)) {
    if (RESERVED.has(key)) continue;
    let json: string | undefined;
    try {
      json = JSON.stringify((error as unknown as Record<string, unknown>)[key]);
    } catch {
      continue; // a cycle, a BigInt: not carried
    }
    if (json === undefined || size + json.length > MAX_FIELDS_BYTES) continue;
    size += json.length;
    fields[key] = JSON.parse(json) as unknown;
  }
  if (Object.keys(fields).length > 0) out.fields = fields;
  return out;
}

/** An Error rebuilt from {@link SerializedError} (for a `cause`). */
export function reviveError(serialized: SerializedError): Error {
  const error = new Error(
    serialized.message,
    serialized.cause && { cause: reviveError(serialized.cause) },
  );
  error.name = serialized.name;
  if (serialized.stack) error.stack = serialized.stack;
  if (serialized.fields) Object.assign(error, serialized.fields);
  return error;
}
