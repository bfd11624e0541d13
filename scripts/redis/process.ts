/**
 * The process side of the local Redis helpers: finding `redis-server`, free ports, spawning a
 * server and waiting until it is ready, stopping it, temporary directories, and the exit hook
 * that kills what a crashed parent leaves behind.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { sleep } from '../../support/async';

export const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
/** What redis-server logs (at `notice`, its default level) once it has loaded its data. */
const READY_LINE = 'Ready to accept connections';
const INSTALL_HINT =
  'redis-server was not found on PATH: install it with `apt-get install -y redis-server` ' +
  '(Debian/Ubuntu), or set REDIS_URL to an existing Redis.';

/** Processes still running, killed synchronously if the parent exits without stopping them. */
const live = new Set<ChildProcess>();
/** Temporary dirs not yet removed, removed at exit too. */
const tempDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    // Only synchronous work is possible in an 'exit' handler.
    for (const child of live) child.kill('SIGKILL');
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  });
}

/** A new temporary directory, removed by `removeTempDir` or, at the latest, when we exit. */
export function makeTempDir(): string {
  installExitHook();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-queues-redis-'));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Absolute path of the executable `name` on PATH, or `undefined`. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not in this PATH entry.
    }
  }
  return undefined;
}

/** Absolute path of `redis-server` on PATH (or `$REDIS_SERVER_BIN`), or throws the install hint. */
export function findRedisServer(): string {
  const found = process.env.REDIS_SERVER_BIN || findOnPath('redis-server');
  if (!found) throw new Error(INSTALL_HINT);
  return found;
}

/** Binds port 0 on 127.0.0.1, reads the port the OS picked and releases it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Calls `check` every `intervalMs` until it returns something other than `undefined`, and
 * returns that; throws `Timed out after N ms waiting for <what>` (with the last error thrown by
 * `check`, if any, as the cause) once `timeoutMs` has passed.
 */
export async function pollUntil<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== undefined) return result;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await sleep(intervalMs);
  }
}

/** Runs a program to completion (bounded by READY_TIMEOUT_MS) and resolves with its stdout. */
export function run(bin: string, args: string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: READY_TIMEOUT_MS, cwd }, (err, stdout, stderr) => {
      if (err)
        reject(new Error(`${path.basename(bin)} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function readFrom(file: string, offset: number): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buffer = Buffer.alloc(Math.max(0, size - offset));
      fs.readSync(fd, buffer, 0, buffer.length, offset);
      return buffer.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

function logTail(logFile: string): string {
  const text = readFrom(logFile, 0);
  return text ? text.split('\n').slice(-15).join('\n') : '(no log)';
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Spawns `redis-server <args>` (which must log to `logFile`) and resolves once it logs that it
 * is ready, i.e. listening and done loading its data: unlike a PING this works the same over TLS
 * and with authentication on. Rejects with the log tail if it exits or is not ready in time.
 */
export async function spawnRedis(
  bin: string,
  args: readonly string[],
  logFile: string,
  where: string,
): Promise<ChildProcess> {
  installExitHook();
  // A restart appends to the same log: only what this process writes counts.
  const logStart = fileSize(logFile);
  // Output goes to the log file, so no pipe keeps this process's event loop alive.
  const child = spawn(bin, args, { stdio: 'ignore' });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(`Could not start ${bin}: ${spawnError.message}`);
    if (exited(child)) {
      throw new Error(
        `redis-server exited (code ${child.exitCode}, signal ${child.signalCode}) before ` +
          `it was ready on ${where}. Log tail:\n${logTail(logFile)}`,
      );
    }
    if (readFrom(logFile, logStart).includes(READY_LINE)) {
      // A forgotten instance must not keep the parent alive; the exit hook still kills it.
      child.unref();
      return child;
    }
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(
    `redis-server was not ready on ${where} within ${READY_TIMEOUT_MS} ms. ` +
      `Log tail:\n${logTail(logFile)}`,
  );
}

/** SIGTERM, then SIGKILL if it hasn't exited after a few seconds. */
export async function terminate(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  child.ref(); // keep the event loop alive while we wait for the exit
  child.kill('SIGCONT'); // a SIGSTOPped server can't handle SIGTERM
  child.kill('SIGTERM');
  if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
    child.kill('SIGKILL');
    await waitForExit(child, STOP_TIMEOUT_MS);
  }
}
