/**
 * A throw-away Redis Cluster: `startLocalRedis` nodes in cluster mode, joined with
 * `redis-cli --cluster create` (masters only, all slots covered), for the Cluster tests.
 */
import * as path from 'node:path';
import { findRedisServer, pollUntil, READY_TIMEOUT_MS, run } from './process';
import { startLocalRedis, type LocalRedis } from './single';

export interface LocalRedisCluster {
  /** The masters, for `new Cluster(nodes)`. */
  readonly nodes: ReadonlyArray<{ host: string; port: number }>;
  readonly servers: ReadonlyArray<LocalRedis>;
  /** Stops every node. */
  stop(): Promise<void>;
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
      servers.push(await startLocalRedis({ cluster: { nodeTimeoutMs: 5_000 } }));
    }
    const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
    // prettier-ignore
    await run(cli, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0',
      '--cluster-yes']);
    for (const server of servers) {
      await pollUntil(`cluster_state:ok on ${server.port}`, READY_TIMEOUT_MS, async () => {
        const info = await run(cli, ['-p', String(server.port), 'cluster', 'info']);
        return info.includes('cluster_state:ok') ? true : undefined;
      });
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
