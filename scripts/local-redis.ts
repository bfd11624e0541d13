/**
 * Throw-away redis-servers on free loopback ports, for tests, benchmarks, chaos scenarios and
 * the demo. Each runs in a temporary directory that `stop()` removes; everything started is
 * stopped by PID, and killed if this process exits first.
 *
 * - `startLocalRedis(opts)` (scripts/redis/single.ts): one server. Persistence is off unless
 *   asked for (`--save ''`, no AOF), so `restart()` loses every key; `appendonly` +
 *   `appendfsync` keep them; `restart({ wipe: true })` deletes the data files either way.
 *   `maxmemory: '4mb'` limits memory with `noeviction` (writes then fail with OOM). `tls: true`
 *   serves TLS only, with a certificate for 127.0.0.1 from a new CA (`redis.tls.ca`).
 *   `aclUsers`, `requirepass`, `defaultUser: 'off'` write an ACL file.
 * - `startLocalRedisCluster({ masters, replicasPerMaster, nodeTimeoutMs })`
 *   (scripts/redis/cluster.ts): nodes joined with `redis-cli --cluster create`; the handle
 *   lists nodes and roles, kills a node, fails a master over to its replica, rejoins a node.
 * - `aclRuleFor({ keyPrefix, commands, channels })` (scripts/redis/acl.ts): the ACL rule of a
 *   user confined to one key prefix.
 *
 * CLI, each running until SIGINT/SIGTERM, then stopping what it started:
 *   node build/scripts/local-redis.js start [--port N] [--appendonly] [--appendfsync always]
 *     [--maxmemory 100mb] [--tls]
 *   node build/scripts/local-redis.js cluster [--masters 3] [--replicas 1] [--node-timeout MS]
 *     [--appendonly]
 */
import { parseArgs } from 'node:util';
import { startLocalRedisCluster } from './redis/cluster';
import { startLocalRedis, type LocalRedisOptions } from './redis/single';

export {
  aclRuleFor,
  type AclRuleOptions,
  type AclUser,
  type DefaultUserOptions,
} from './redis/acl';
export type { ClusterNode } from './redis/cluster-nodes';
export {
  startLocalRedisCluster,
  type FailoverOptions,
  type FailoverResult,
  type LocalRedisCluster,
  type LocalRedisClusterOptions,
  type NodeRef,
} from './redis/cluster';
export { findRedisServer, freePort } from './redis/process';
export {
  startLocalRedis,
  type LocalRedis,
  type LocalRedisOptions,
  type RestartOptions,
} from './redis/single';
export type { TestCertificates } from './redis/tls';

const USAGE = `usage:
  node build/scripts/local-redis.js start [--port N] [--appendonly] [--appendfsync always|everysec|no]
    [--maxmemory SIZE] [--tls]
  node build/scripts/local-redis.js cluster [--masters N] [--replicas N] [--node-timeout MS]
    [--appendonly]`;

const FSYNC = ['always', 'everysec', 'no'] as const;

/** `value` as an integer ≥ `min`, or `fallback` when the flag was not given. */
function integer(name: string, value: string | undefined, min: number, fallback?: number) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`Expected \`--${name}\` to be an integer ≥ ${min}, got \`${value}\``);
  }
  return n;
}

function fsyncPolicy(value: string | undefined): LocalRedisOptions['appendfsync'] {
  if (value === undefined) return undefined;
  const policy = FSYNC.find((p) => p === value);
  if (!policy) throw new Error(`Expected \`--appendfsync\` to be one of ${FSYNC.join(', ')}`);
  return policy;
}

/** Starts what `argv` asks for, prints how to reach it; resolves with its `stop`. */
async function start(argv: string[]): Promise<() => Promise<void>> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      port: { type: 'string' },
      appendonly: { type: 'boolean' },
      appendfsync: { type: 'string' },
      maxmemory: { type: 'string' },
      tls: { type: 'boolean' },
      masters: { type: 'string' },
      replicas: { type: 'string' },
      'node-timeout': { type: 'string' },
    },
  });
  if (command === 'start') {
    const redis = await startLocalRedis({
      port: integer('port', values.port, 1),
      appendonly: values.appendonly,
      appendfsync: fsyncPolicy(values.appendfsync),
      maxmemory: values.maxmemory,
      tls: values.tls,
    });
    console.log(redis.url);
    if (redis.tls) console.error(`CA certificate: ${redis.tls.caFile}`);
    console.error(`redis-server pid ${redis.pid}, dir ${redis.dir}`);
    return () => redis.stop();
  }
  if (command === 'cluster') {
    const cluster = await startLocalRedisCluster({
      masters: integer('masters', values.masters, 3),
      replicasPerMaster: integer('replicas', values.replicas, 0),
      nodeTimeoutMs: integer('node-timeout', values['node-timeout'], 100),
      appendonly: values.appendonly,
      appendfsync: fsyncPolicy(values.appendfsync),
    });
    for (const node of await cluster.listNodes()) {
      const role = node.role === 'master' ? 'master' : `replica of ${node.masterPort}`;
      console.log(`redis://127.0.0.1:${node.port} ${role} (pid ${node.pid})`);
    }
    return () => cluster.stop();
  }
  throw new Error(USAGE);
}

async function main(argv: string[]): Promise<void> {
  // Keep the process in the foreground (the servers themselves are unref'd).
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const started = start(argv);
  // Handlers before "Ctrl-C to stop": a signal must never find Node's default (exit at once,
  // leaving the servers running); one during start-up stops what was started.
  const shutdown = (): void => {
    clearInterval(keepAlive);
    started
      .then((stop) => stop())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          console.error(err);
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  await started;
  console.error('Ctrl-C to stop');
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(err instanceof Error && err.message === USAGE ? 2 : 1);
  });
}
