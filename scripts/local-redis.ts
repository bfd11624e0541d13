/**
 * Starts and stops a throw-away `redis-server` on a free loopback port, for tests, benchmarks,
 * chaos scenarios and the demo. Nothing is persisted unless `appendonly` is asked for, and then
 * only in a temporary directory that `stop()` removes.
 *
 * CLI: `node build/scripts/local-redis.js start [--port N] [--appendonly]` prints the URL and
 * keeps Redis running until SIGINT/SIGTERM.
 *
 * `startLocalRedisCluster()` starts several of them in cluster mode and joins them with
 * `redis-cli --cluster create` (masters only, all slots covered) for the Cluster tests.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { sleep } from '../support/async';

export interface LocalRedisOptions {
  /** Port to listen on; default: a free loopback port. */
  port?: number;
  /** Turn on the append-only file (needed by crash/restart scenarios). Default `false`. */
  appendonly?: boolean;
  /** `appendfsync` policy when `appendonly` is on. Redis's default is `everysec`. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Working directory (AOF, log). Default: a new temporary directory, removed by `stop()`. */
  dir?: string;
  /** More `redis-server` arguments, e.g. `['--maxmemory', '100mb']`. */
  extraArgs?: string[];
}

export interface LocalRedis {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** PID of the current redis-server process (changes after `restart()`). */
  readonly pid: number;
  readonly dir: string;
  /** SIGTERM, then SIGKILL if it hasn't exited after a few seconds; removes a temporary dir. */
  stop(): Promise<void>;
  /** Sends a signal and returns at once (chaos: `kill('SIGKILL')`, `kill('SIGSTOP')`, ...). */
  kill(signal: NodeJS.Signals): void;
  /** Stops the process (if still running) and starts it again on the same port and dir. */
  restart(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const INSTALL_HINT =
  'redis-server was not found on PATH: install it with `apt-get install -y redis-server` ' +
  '(Debian/Ubuntu), or set REDIS_URL to an existing Redis.';

/** Processes still running, killed synchronously if the parent exits without stopping them. */
const live = new Set<ChildProcess>();
/** Temporary dirs not yet removed by `stop()`, removed at exit too. */
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

/** Absolute path of `redis-server` on PATH (or `$REDIS_SERVER_BIN`), or throws the install hint. */
export function findRedisServer(): string {
  const override = process.env.REDIS_SERVER_BIN;
  if (override) return override;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'redis-server');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not in this PATH entry.
    }
  }
  throw new Error(INSTALL_HINT);
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

/** One PING over a raw socket; true when Redis answers `+PONG` (not `-LOADING`). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
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

function logTail(logFile: string): string {
  try {
    return fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Spawns redis-server and resolves once it answers PING; rejects with the log tail otherwise. */
async function spawnRedis(
  bin: string,
  port: number,
  dir: string,
  opts: LocalRedisOptions,
): Promise<ChildProcess> {
  const logFile = path.join(dir, 'redis.log');
  // prettier-ignore
  const args = [
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--save', '',
    '--appendonly', opts.appendonly ? 'yes' : 'no',
    ...(opts.appendfsync ? ['--appendfsync', opts.appendfsync] : []),
    '--dir', dir,
    '--logfile', logFile,
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--maxclients', '20000',
    ...(opts.extraArgs ?? []),
  ];
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
          `answering PING on port ${port}. Log tail:\n${logTail(logFile)}`,
      );
    }
    if (await ping(port)) {
      // A forgotten instance must not keep the parent alive; the exit hook still kills it.
      child.unref();
      return child;
    }
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(
    `redis-server did not answer PING on port ${port} within ${READY_TIMEOUT_MS} ms. ` +
      `Log tail:\n${logTail(logFile)}`,
  );
}

async function terminate(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  child.ref(); // keep the event loop alive while we wait for the exit
  child.kill('SIGCONT'); // a SIGSTOPped server can't handle SIGTERM
  child.kill('SIGTERM');
  if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
    child.kill('SIGKILL');
    await waitForExit(child, STOP_TIMEOUT_MS);
  }
}

export async function startLocalRedis(opts: LocalRedisOptions = {}): Promise<LocalRedis> {
  const bin = findRedisServer();
  installExitHook();
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-queues-redis-'));
  fs.mkdirSync(dir, { recursive: true });
  if (ownDir) tempDirs.add(dir);
  const removeDir = (): void => {
    if (!ownDir) return;
    fs.rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  };

  // A port from freePort() can be taken by someone else before Redis binds it: retry a few times.
  let child: ChildProcess | undefined;
  let port = opts.port ?? 0;
  for (let attempt = 1; child === undefined; attempt++) {
    if (opts.port === undefined) port = await freePort();
    try {
      child = await spawnRedis(bin, port, dir, opts);
    } catch (err) {
      if (opts.port !== undefined || attempt >= 3) {
        removeDir();
        throw err;
      }
    }
  }

  let current: ChildProcess = child;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid(): number {
      return current.pid ?? -1;
    },
    async stop(): Promise<void> {
      await terminate(current);
      removeDir();
    },
    kill(signal: NodeJS.Signals): void {
      current.kill(signal);
    },
    async restart(): Promise<void> {
      await terminate(current);
      current = await spawnRedis(bin, port, dir, opts);
    },
  };
}

export interface LocalRedisCluster {
  /** The masters, for `new Cluster(nodes)`. */
  readonly nodes: ReadonlyArray<{ host: string; port: number }>;
  readonly servers: ReadonlyArray<LocalRedis>;
  /** Stops every node. */
  stop(): Promise<void>;
}

function run(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: READY_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err)
        reject(new Error(`${path.basename(bin)} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * `masters` redis-server processes in cluster mode on free loopback ports, joined into one
 * cluster (no replicas) and ready: resolves once every node reports `cluster_state:ok`.
 * `redis-cli` comes with Debian's redis-server package (redis-tools).
 */
export async function startLocalRedisCluster(masters = 3): Promise<LocalRedisCluster> {
  const cli = path.join(path.dirname(findRedisServer()), 'redis-cli');
  const servers: LocalRedis[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      // prettier-ignore
      servers.push(await startLocalRedis({
        extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
          '--cluster-node-timeout', '5000'],
      }));
    }
    const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
    await run(cli, [
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (const server of servers) {
      for (;;) {
        const info = await run(cli, ['-p', String(server.port), 'cluster', 'info']);
        if (info.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`Cluster not ready on ${server.port}:\n${info}`);
        await sleep(100);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    nodes: servers.map((server) => ({ host: '127.0.0.1', port: server.port })),
    servers,
    stop,
  };
}

/** `node build/scripts/local-redis.js start [--port N] [--appendonly]` */
async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command !== 'start') {
    console.error('usage: node build/scripts/local-redis.js start [--port N] [--appendonly]');
    process.exitCode = 2;
    return;
  }
  const portIndex = rest.indexOf('--port');
  const redis = await startLocalRedis({
    port: portIndex >= 0 ? Number(rest[portIndex + 1]) : undefined,
    appendonly: rest.includes('--appendonly'),
  });
  console.log(redis.url);
  console.error(`redis-server pid ${redis.pid}, dir ${redis.dir}; Ctrl-C to stop`);
  // Keep the process in the foreground (the child itself is unref'd).
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const shutdown = (): void => {
    clearInterval(keepAlive);
    redis.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
