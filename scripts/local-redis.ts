/**
 * Throw-away redis-servers on free loopback ports, for tests, benchmarks, chaos scenarios and
 * the demo. Each runs in a temporary directory that `stop()` removes; everything started is
 * stopped by PID, and killed if this process exits first.
 *
 * - `startLocalRedis(opts)` (scripts/redis/single.ts): one server. Persistence is off unless asked
 *   for (`--save ''`, no AOF), so `restart()` loses every key; `appendonly` + `appendfsync` keep
 *   them; `restart({ wipe: true })` deletes the data files either way. `maxmemory: '4mb'` limits
 *   memory with `noeviction` (writes then fail with OOM). `tls: true` serves TLS only, with a
 *   certificate for 127.0.0.1 from a new CA (`redis.tls.ca`). `aclUsers`, `requirepass`,
 *   `defaultUser: 'off'` write an ACL file.
 * - `startLocalRedisCluster({ masters, replicasPerMaster, nodeTimeoutMs })`
 *   (scripts/redis/cluster.ts): nodes joined with `redis-cli --cluster create`; the handle lists
 *   nodes and roles, kills a node, fails a master over to its replica, rejoins a node.
 * - `aclRuleFor({ keyPrefix, commands, channels })` (scripts/redis/acl.ts): the ACL rule of a user
 *   confined to one key prefix.
 *
 * CLI: `node build/scripts/local-redis.js start [--port N] [--appendonly]` prints the URL and
 * keeps Redis running until SIGINT/SIGTERM.
 */
import { startLocalRedis } from './redis/single';
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
