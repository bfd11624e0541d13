/**
 * One throw-away `redis-server` on a free loopback port, in a temporary directory that `stop()`
 * removes. Options cover what tests of failure need: persistence (none by default, so a
 * `restart()` loses every key), a memory limit, TLS, ACL users, cluster mode.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { aclFileText, type AclUser, type DefaultUserOptions } from './acl';
import {
  findRedisServer,
  freePort,
  makeTempDir,
  removeTempDir,
  spawnRedis,
  terminate,
} from './process';
import { createTestCertificates, type TestCertificates } from './tls';

export interface LocalRedisOptions extends DefaultUserOptions {
  /** Port to listen on; default: a free loopback port. */
  port?: number;
  /**
   * Turn on the append-only file (needed by crash/restart scenarios). Default `false`: no AOF
   * and no RDB snapshots (`--save ''`), so nothing survives a restart.
   */
  appendonly?: boolean;
  /** `appendfsync` policy when `appendonly` is on. Redis's default is `everysec`. */
  appendfsync?: 'always' | 'everysec' | 'no';
  /**
   * Memory limit, e.g. `'4mb'`, with `maxmemory-policy noeviction`: once it is reached, writes
   * fail with `OOM command not allowed when used memory > 'maxmemory'`. Default: no limit.
   */
  maxmemory?: string;
  /**
   * Serve TLS only (`--port 0 --tls-port <port>`), with a certificate for 127.0.0.1/localhost
   * signed by a new self-signed CA (see `LocalRedis.tls`); clients need no certificate of
   * their own. Needs the `openssl` command. Default `false`.
   */
  tls?: boolean;
  /** Users written to an ACL file (`--aclfile`), next to the `default` user's settings. */
  aclUsers?: readonly AclUser[];
  /** Start as a cluster node, for `startLocalRedisCluster`: `nodes.conf` in `dir`. */
  cluster?: { nodeTimeoutMs: number };
  /** Working directory (data, log, certificates). Default: a new temporary directory. */
  dir?: string;
  /** More `redis-server` arguments, e.g. `['--maxmemory-policy', 'allkeys-lru']`. */
  extraArgs?: string[];
}

export interface RestartOptions {
  /** Delete the data files (RDB, AOF) before starting again: Redis comes back empty. */
  wipe?: boolean;
}

export interface LocalRedis {
  /** `redis://127.0.0.1:<port>`, or `rediss://` with `tls`; credentials are not included. */
  readonly url: string;
  readonly port: number;
  /** PID of the current redis-server process (changes after `restart()`). */
  readonly pid: number;
  readonly dir: string;
  /** With `tls`: the CA a client must trust (`new Redis(url, { tls: { ca: tls.ca } })`). */
  readonly tls?: TestCertificates;
  /** SIGTERM, then SIGKILL if it hasn't exited after a few seconds; removes a temporary dir. */
  stop(): Promise<void>;
  /** Sends a signal and returns at once (chaos: `kill('SIGKILL')`, `kill('SIGSTOP')`, ...). */
  kill(signal: NodeJS.Signals): void;
  /**
   * Stops the process (if still running) and starts it again on the same port and dir. Without
   * `appendonly` it comes back empty anyway; `{ wipe: true }` empties it with the AOF on too.
   */
  restart(options?: RestartOptions): Promise<void>;
}

/** What Redis 7 writes under `--dir`: the RDB file and the multi-part AOF directory. */
const DATA_FILES = ['dump.rdb', 'appendonlydir'];

interface Files {
  logFile: string;
  aclFile?: string;
  certs?: TestCertificates;
}

/** Writes the ACL file and certificates the options ask for into `dir`. */
async function prepareFiles(dir: string, opts: LocalRedisOptions): Promise<Files> {
  const files: Files = { logFile: path.join(dir, 'redis.log') };
  const acl = aclFileText(opts.aclUsers ?? [], opts);
  if (acl !== undefined) {
    files.aclFile = path.join(dir, 'users.acl');
    fs.writeFileSync(files.aclFile, acl, { mode: 0o600 });
  }
  if (opts.tls) files.certs = await createTestCertificates(path.join(dir, 'tls'));
  return files;
}

function serverArgs(
  opts: LocalRedisOptions,
  dir: string,
  files: Files,
  port: number,
  busPort: number | undefined,
): string[] {
  const { certs, aclFile } = files;
  // prettier-ignore
  return [
    '--bind', '127.0.0.1',
    ...(certs
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', certs.certFile,
          '--tls-key-file', certs.keyFile, '--tls-ca-cert-file', certs.caFile,
          '--tls-auth-clients', 'no']
      : ['--port', String(port)]),
    '--save', '',
    '--appendonly', opts.appendonly ? 'yes' : 'no',
    ...(opts.appendfsync ? ['--appendfsync', opts.appendfsync] : []),
    ...(opts.maxmemory ? ['--maxmemory', opts.maxmemory, '--maxmemory-policy', 'noeviction'] : []),
    ...(aclFile ? ['--aclfile', aclFile] : []),
    ...(opts.cluster
      ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
          '--cluster-node-timeout', String(opts.cluster.nodeTimeoutMs),
          // Its own free port: the default (port + 10000) can be taken, or above 65535.
          '--cluster-port', String(busPort)]
      : []),
    '--dir', dir,
    '--logfile', files.logFile,
    // Readiness is read from the log, at this level.
    '--loglevel', 'notice',
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--maxclients', '20000',
    ...(opts.extraArgs ?? []),
  ];
}

export async function startLocalRedis(opts: LocalRedisOptions = {}): Promise<LocalRedis> {
  const bin = findRedisServer();
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? makeTempDir();
  fs.mkdirSync(dir, { recursive: true });
  const removeDir = (): void => {
    if (ownDir) removeTempDir(dir);
  };

  // A port from freePort() can be taken by someone else before Redis binds it: retry a few times.
  let child: ChildProcess | undefined;
  let args: string[] = [];
  let files: Files | undefined;
  let port = opts.port ?? 0;
  try {
    files = await prepareFiles(dir, opts);
    for (let attempt = 1; child === undefined; attempt++) {
      if (opts.port === undefined) port = await freePort();
      const busPort = opts.cluster ? await freePort() : undefined;
      args = serverArgs(opts, dir, files, port, busPort);
      try {
        child = await spawnRedis(bin, args, files.logFile, `port ${port}`);
      } catch (err) {
        if (opts.port !== undefined || attempt >= 3) throw err;
      }
    }
  } catch (err) {
    removeDir();
    throw err;
  }

  const { logFile, certs } = files;
  let current: ChildProcess = child;
  return {
    url: `${certs ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    port,
    dir,
    tls: certs,
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
    async restart({ wipe = false }: RestartOptions = {}): Promise<void> {
      await terminate(current);
      if (wipe) {
        for (const file of DATA_FILES) {
          fs.rmSync(path.join(dir, file), { recursive: true, force: true });
        }
      }
      // The same arguments: same port and, for a cluster node, the same bus port.
      current = await spawnRedis(bin, args, logFile, `port ${port}`);
    },
  };
}
