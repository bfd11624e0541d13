/**
 * The trace context a job carries from its enqueue to its run, as the engine stores it in the
 * job's hash (field `aqt`): the W3C `traceparent`, then, when there is one, a space and the
 * `tracestate` (a traceparent never contains a space). https://www.w3.org/TR/trace-context/
 */

/** The parts of a span context that travel with a job. */
export interface CarriedContext {
  traceId: string;
  spanId: string;
  /** W3C trace flags (bit 0: sampled). */
  traceFlags: number;
  /** The `tracestate` header value, if any. */
  traceState?: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** The `aqt` value of a span context; undefined for an invalid one (all-zero ids). */
export function formatCarried(context: CarriedContext): string | undefined {
  const { traceId, spanId, traceFlags, traceState } = context;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  const flags = (traceFlags & 0xff).toString(16).padStart(2, '0');
  const parent = `00-${traceId}-${spanId}-${flags}`;
  return traceState ? `${parent} ${traceState}` : parent;
}

/**
 * The span context of an `aqt` value (`traceparent`, or `traceparent tracestate`); undefined
 * when the traceparent is malformed, as a W3C parser would ignore it.
 */
export function parseCarried(carried: string): CarriedContext | undefined {
  const space = carried.indexOf(' ');
  const parent = space < 0 ? carried : carried.slice(0, space);
  const match = TRACEPARENT.exec(parent);
  if (!match) return undefined;
  const [, version, traceId, spanId, flags] = match;
  if (version === 'ff' || traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  const traceState = space < 0 ? undefined : carried.slice(space + 1).trim() || undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16), traceState };
}
