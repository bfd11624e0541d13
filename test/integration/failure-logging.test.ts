/**
 * A failing handler behind a plain enqueue is not silent: its final failure is logged once, with
 * the job, the entity, the attempts and the error's stack; each failed attempt that is retried
 * is logged at debug level.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AtomicQueuesLogger } from '../../src';
import { waitFor } from '../../support/async';
import { integrationSuite } from '../fixtures/integration-suite';

const TYPE = 'account';

function capturingLogger(): AtomicQueuesLogger & { lines: { level: string; text: string }[] } {
  const lines: { level: string; text: string }[] = [];
  const at =
    (level: string) =>
    (message: string, ...params: unknown[]): void => {
      lines.push({ level, text: [message, ...params.map(String)].join('\n') });
    };
  return { lines, log: at('log'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

describe('handler failures in the log', () => {
  const { engines } = integrationSuite('failureLogging');

  it('logs a final failure once, and each retried attempt at debug level', async () => {
    const logger = capturingLogger();
    const engine = engines.create({
      podId: 'pod1',
      logger,
      entities: { [TYPE]: { attempts: 3 } },
    });
    engine.registerHandler(TYPE, () => {
      throw new TypeError('card declined');
    });
    await engine.start();
    const jobId = await engine.enqueue(TYPE, 'acct-9', 'charge', { cents: 5 });
    await waitFor(() => logger.lines.some((l) => l.level === 'error'), {
      message: 'the final failure is logged',
    });
    const errors = logger.lines.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1, `one error line: ${JSON.stringify(errors)}`);
    assert.match(errors[0].text, new RegExp(`Job ${jobId} \\(charge\\) of ${TYPE} \`acct-9\``));
    assert.match(errors[0].text, /failed after 3 attempt\(s\): TypeError: card declined/);
    assert.match(errors[0].text, /failure-logging\.test/, 'with the stack of the handler');
    const retries = logger.lines.filter((l) => l.level === 'debug');
    assert.equal(retries.length, 2, `two retries: ${JSON.stringify(retries)}`);
    assert.match(retries[0].text, /attempt 1 failed \(TypeError: card declined\); retrying/);
  });
});
