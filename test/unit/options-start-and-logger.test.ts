/**
 * `startTimeoutMs` and `stopTimeoutMs` (default 10 s each) and `logger` (default: the console; `false`: none; else any
 * object shaped like Nest's LoggerService) are checked like the other options; the engine logs
 * its background errors through the logger given.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Logger } from '@nestjs/common';
import { AtomicEngine, InvalidOptionsError, type AtomicQueuesLogger } from '../../src';
import { consoleLogger } from '../../src/core/logger';
import { resolveOptions } from '../../src/core/options/resolve-options';
import { RecordingLogger } from '../integration/nest-testing';

const REDIS = 'redis://127.0.0.1:1';

describe('startTimeoutMs, stopTimeoutMs and logger', () => {
  it('default to 10 s and the console', () => {
    const resolved = resolveOptions({ redis: REDIS });
    assert.equal(resolved.startTimeoutMs, 10_000);
    assert.equal(resolved.stopTimeoutMs, 10_000);
    assert.equal(resolveOptions({ redis: REDIS, stopTimeoutMs: 2_500 }).stopTimeoutMs, 2_500);
    assert.equal(resolved.logger, consoleLogger);
  });

  it('take false, Nest’s Logger or any log/warn/error object', () => {
    assert.equal(resolveOptions({ redis: REDIS, logger: false }).logger, false);
    const nest = new Logger('AtomicQueues');
    assert.equal(resolveOptions({ redis: REDIS, logger: nest }).logger, nest);
    const plain: AtomicQueuesLogger = { log() {}, warn() {}, error() {} };
    assert.equal(resolveOptions({ redis: REDIS, logger: plain }).logger, plain);
  });

  it('refuse what they cannot work with', () => {
    for (const [option, value] of [
      ['startTimeoutMs', 0],
      ['startTimeoutMs', 1.5],
      ['stopTimeoutMs', 0],
      ['stopTimeoutMs', '10s'],
      ['logger', true],
      ['logger', { log() {}, warn() {} }],
    ] as [string, unknown][]) {
      assert.throws(
        () => resolveOptions({ redis: REDIS, [option]: value }),
        (err: unknown) => err instanceof InvalidOptionsError && err.option === option,
        `${option}: ${JSON.stringify(value)}`,
      );
    }
  });

  it('the engine logs its error events, with their stack, through the logger', () => {
    const logger = new RecordingLogger();
    const engine = new AtomicEngine({ redis: REDIS, logger });
    engine.emit('error', new Error('boom'), 'renewing leases');
    assert.deepEqual(logger.lines, [{ level: 'error', message: 'renewing leases: boom' }]);
    // With false, an error event is still heard (it would throw otherwise), and not logged.
    new AtomicEngine({ redis: REDIS, logger: false }).emit('error', new Error('x'), 'y');
  });
});
