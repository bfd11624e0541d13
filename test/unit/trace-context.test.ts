/** The trace context a job carries (`aqt`): W3C traceparent, then tracestate after a space. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatCarried, parseCarried } from '../../src/core/observability/trace-context';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('trace context carried by a job', () => {
  test('a sampled context round-trips, with and without tracestate', () => {
    const plain = formatCarried({ traceId: TRACE, spanId: SPAN, traceFlags: 1 });
    assert.equal(plain, `00-${TRACE}-${SPAN}-01`);
    assert.deepEqual(parseCarried(plain), {
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: 1,
      traceState: undefined,
    });
    const withState = formatCarried({
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: 0,
      traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    });
    assert.equal(withState, `00-${TRACE}-${SPAN}-00 rojo=00f067aa0ba902b7,congo=t61rcWkgMzE`);
    assert.deepEqual(parseCarried(withState), {
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: 0,
      traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    });
  });

  test('an invalid context is not carried', () => {
    assert.equal(
      formatCarried({ traceId: '0'.repeat(32), spanId: SPAN, traceFlags: 1 }),
      undefined,
    );
    assert.equal(
      formatCarried({ traceId: TRACE, spanId: '0'.repeat(16), traceFlags: 1 }),
      undefined,
    );
  });

  test('a malformed traceparent is ignored, as a W3C parser would', () => {
    for (const bad of [
      '',
      'garbage',
      `00-${TRACE}-${SPAN}`,
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
      `ff-${TRACE}-${SPAN}-01`,
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE}-${SPAN}-01x`,
    ])
      assert.equal(parseCarried(bad), undefined, bad);
  });
});
