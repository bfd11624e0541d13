/**
 * A `down` reaches Terminus the way its version reads it: returned from Terminus 11 on (12 no
 * longer accepts the error), thrown as its HealthCheckError for Terminus 10.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as terminus from '@nestjs/terminus';
import { downResult, type TerminusModule } from '../../src/nest/health/terminus-compat';

const result = { queues: { status: 'down' as const, reasons: ['Redis unreachable'] } };

class LegacyHealthCheckError extends Error {
  readonly isHealthCheckError = true;
  constructor(
    message: string,
    readonly causes: unknown,
  ) {
    super(message);
  }
}

describe('a down result for Terminus', () => {
  test('the installed Terminus (11) gets it returned', () => {
    assert.equal(typeof terminus.HealthIndicatorService, 'function');
    assert.equal(downResult(result, 'queues is down'), result);
  });

  test('Terminus 10 (no HealthIndicatorService) gets its HealthCheckError thrown', () => {
    const terminus10: TerminusModule = { HealthCheckError: LegacyHealthCheckError };
    assert.throws(
      () => downResult(result, 'queues is down: Redis unreachable', terminus10),
      (err: unknown) =>
        err instanceof LegacyHealthCheckError &&
        err.message === 'queues is down: Redis unreachable' &&
        err.causes === result,
    );
  });

  test('without Terminus the result is returned', () => {
    assert.equal(downResult(result, 'queues is down', null), result);
  });
});
