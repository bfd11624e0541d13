/**
 * `node build/scripts/local-redis.js cluster|start ...`: prints how to reach what it started,
 * keeps it running, and on SIGTERM stops every redis-server it started and exits 0.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { waitFor } from '../../support/async';
import { gone } from './connect';

const CLI = path.resolve(__dirname, '../../scripts/local-redis.js');

interface Run {
  child: ChildProcess;
  /** stdout, line by line */
  lines: string[];
  stderr: string;
  /** Every `pid N` it printed: the redis-servers it started. */
  pids: number[];
}

const runs: Run[] = [];

/** Starts the CLI; resolves once it has printed `count` lines and says it is up. */
async function startCli(args: string[], count: number): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Run = { child, lines: [], stderr: '', pids: [] };
  runs.push(run);
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    run.lines = stdout.split('\n').filter((line) => line !== '');
  });
  const up = (): boolean => run.lines.length >= count && run.stderr.includes('Ctrl-C to stop');
  await waitFor(() => up() || child.exitCode !== null, {
    timeoutMs: 30_000,
    message: `${count} lines from local-redis.js ${args.join(' ')}`,
  });
  run.pids = [...`${stdout}${run.stderr}`.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
  assert.equal(child.exitCode, null, `still running; stderr:\n${run.stderr}`);
  return run;
}

/** SIGTERM, and the exit code once it has exited. */
async function stopCli({ child }: Run): Promise<number | null> {
  child.kill('SIGTERM');
  await waitFor(() => child.exitCode !== null || child.signalCode !== null, {
    timeoutMs: 15_000,
    message: 'local-redis.js exits after SIGTERM',
  });
  return child.exitCode;
}

describe('the local-redis CLI', () => {
  after(async () => {
    // After a failed assertion: stop what is left, the CLI first (it stops its servers).
    for (const run of runs) {
      if (run.child.exitCode === null) await stopCli(run).catch(() => run.child.kill('SIGKILL'));
    }
    for (const pid of runs.flatMap((run) => run.pids)) if (!gone(pid)) process.kill(pid, 'SIGKILL');
  });

  it('starts a cluster with replicas and stops it on SIGTERM', { timeout: 60_000 }, async () => {
    const run = await startCli(['cluster', '--masters', '3', '--replicas', '1'], 6);
    const nodes = run.lines.map((line) => {
      const match = /^redis:\/\/127\.0\.0\.1:(\d+) (master|replica of (\d+)) \(pid \d+\)$/.exec(
        line,
      );
      assert.ok(match, `a node line: ${line}`);
      return { port: match[1], masterPort: match[3] };
    });
    const masters = nodes.filter((n) => n.masterPort === undefined).map((n) => n.port);
    const followed = nodes.flatMap((n) => (n.masterPort ? [n.masterPort] : []));
    assert.equal(masters.length, 3);
    assert.deepEqual(followed.sort(), masters.sort(), 'one replica per master');
    assert.equal(run.pids.filter((pid) => !gone(pid)).length, 6, 'every node running');

    assert.equal(await stopCli(run), 0);
    assert.deepEqual(
      run.pids.filter((pid) => !gone(pid)),
      [],
      'no node left running',
    );
  });

  it('starts a TLS server and prints its rediss:// URL', { timeout: 30_000 }, async () => {
    const run = await startCli(['start', '--tls'], 1);
    assert.match(run.lines[0], /^rediss:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(run.pids.length, 1);
    assert.ok(!gone(run.pids[0]), `running: ${run.stderr}`);
    assert.equal(await stopCli(run), 0);
    assert.ok(gone(run.pids[0]), 'stopped with the CLI');
  });
});
