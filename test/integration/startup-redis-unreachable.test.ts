/**
 * Redis unreachable at start-up: `start()` fails within `startTimeoutMs` with a
 * RedisConnectionError naming host:port and the cause (nothing listening: `refused`; a server
 * that accepts and never answers: `timeout`), logs nothing per retry, and leaves nothing open:
 * the silent server sees its connections closed, and a process whose start failed exits by
 * itself.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../scripts/local-redis';
import { AtomicEngine } from '../../src';
import { SilentServer, startFailure } from '../fixtures/startup';
import { waitFor } from '../../support/async';
import { RecordingLogger } from './nest-testing';

const TIMEOUT_MS = 300;

/** Runs an engine start in a child process; resolves with its exit code and output. */
function startInChild(port: number): Promise<{ code: number | null; out: string }> {
  const src = path.resolve(__dirname, '../../src');
  const script = `
    const { AtomicEngine } = require(${JSON.stringify(src)});
    const engine = new AtomicEngine({
      redis: { host: '127.0.0.1', port: ${port} }, startTimeoutMs: ${TIMEOUT_MS}, logger: false,
    });
    engine.start().then(
      () => console.log('started'),
      (err) => console.log(JSON.stringify({ name: err.name, reason: err.reason })),
    );`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    // Nothing kills the child but this guard: exiting is what is under test.
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the process did not exit after its start failed; output: ${out}`));
    }, 15_000);
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, out });
    });
  });
}

describe('start-up with Redis unreachable', () => {
  const silent = new SilentServer();
  let silentPort: number;
  before(async () => {
    silentPort = await silent.listen();
  });
  after(() => silent.close());

  it('nothing listening: `refused`, once startTimeoutMs has passed, no log line', async () => {
    const port = await freePort();
    const logger = new RecordingLogger();
    const engine = new AtomicEngine({
      redis: { host: '127.0.0.1', port },
      startTimeoutMs: TIMEOUT_MS,
      logger,
    });
    const { error, elapsedMs } = await startFailure(engine);
    assert.equal(error.reason, 'refused');
    assert.equal(error.target, `127.0.0.1:${port}`);
    assert.match(
      error.message,
      new RegExp(
        `^Cannot connect to Redis at 127\\.0\\.0\\.1:${port}: connection refused \\(.*ECONNREFUSED.*\\); ` +
          `still failing after ${TIMEOUT_MS} ms \\(startTimeoutMs\\)$`,
      ),
    );
    assert.ok(elapsedMs >= TIMEOUT_MS - 5 && elapsedMs < 5_000, `took ${elapsedMs} ms`);
    assert.deepEqual(logger.lines, [], 'retries are not logged');
  });

  it('a server that never answers: `timeout`, and its connection is closed', async () => {
    const before = silent.accepted;
    const engine = new AtomicEngine({
      redis: `redis://127.0.0.1:${silentPort}`,
      startTimeoutMs: TIMEOUT_MS,
      logger: false,
    });
    const { error } = await startFailure(engine);
    assert.equal(error.reason, 'timeout');
    assert.equal(
      error.message,
      `Cannot connect to Redis at 127.0.0.1:${silentPort}: no answer within ${TIMEOUT_MS} ms (startTimeoutMs)`,
    );
    assert.ok(silent.accepted > before, 'the engine did connect to the silent server');
    await waitFor(() => silent.sockets.size === 0, {
      message: 'the engine closed its connection to the silent server',
    });
  });

  it('start() may be called again after it failed', async () => {
    const engine = new AtomicEngine({
      redis: `redis://127.0.0.1:${silentPort}`,
      startTimeoutMs: TIMEOUT_MS,
      logger: false,
    });
    await assert.rejects(engine.start(), { name: 'RedisConnectionError' });
    await assert.rejects(engine.start(), { name: 'RedisConnectionError', reason: 'timeout' });
    await engine.stop();
    await waitFor(() => silent.sockets.size === 0, { message: 'both attempts closed' });
  });

  for (const target of ['refused', 'silent'] as const) {
    it(`a process whose start failed (${target}) exits by itself`, async () => {
      const port = target === 'refused' ? await freePort() : silentPort;
      const { code, out } = await startInChild(port);
      assert.equal(code, 0, out);
      assert.deepEqual(JSON.parse(out), {
        name: 'RedisConnectionError',
        reason: target === 'refused' ? 'refused' : 'timeout',
      });
    });
  }
});
