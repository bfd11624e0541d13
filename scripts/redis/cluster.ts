/**
 * A throw-away Redis Cluster: `startLocalRedis` nodes in cluster mode, joined with
 * `redis-cli --cluster create`, optionally with replicas; and what a failure test does to it
 * (kill a node, fail a master over to its replica, bring the killed node back as a replica).
 */
import * as path from 'node:path';
import {
  expectHealthy,
  infoField,
  parseClusterNodes,
  query,
  replicationInfo,
  type ClusterNode,
} from './cluster-nodes';
import { findRedisServer, pollUntil, run } from './process';
import { startLocalRedis, type LocalRedis, type LocalRedisOptions } from './single';

export interface LocalRedisClusterOptions {
  /** Default 3, the fewest Redis accepts. */
  masters?: number;
  /** Default 0. Each master gets this many replicas, which `failover()` can promote. */
  replicasPerMaster?: number;
  /**
   * `cluster-node-timeout`: how long a node may be unreachable before it counts as failing.
   * Default 2000 ms with replicas (a failover takes a few seconds), 5000 ms without (nothing can
   * take over, so only tolerance of a stalled node matters).
   */
  nodeTimeoutMs?: number;
  appendonly?: LocalRedisOptions['appendonly'];
  appendfsync?: LocalRedisOptions['appendfsync'];
  /** More `redis-server` arguments for every node. */
  extraArgs?: string[];
}

export interface FailoverOptions {
  /** Port of the master to kill. Default: the first master that has a replica. */
  master?: number;
  /** Give up after this long. Default: 30 s, or 15 node timeouts if longer. */
  timeoutMs?: number;
  /**
   * Default 0: the master dies once its replicas have every write it took. Above 0, it dies
   * ahead of them, as Redis's asynchronous replication allows: its replicas are paused
   * (SIGSTOP) and their links cut (`CLIENT KILL TYPE replica`), the master takes writes for this
   * long, then it is killed and its replicas resumed. Those writes are lost with it.
   */
  unreplicatedMs?: number;
}

export interface FailoverResult {
  readonly killedPort: number;
  readonly promotedPort: number;
  /** From the SIGKILL until the replica served as master and every live node was `ok`. */
  readonly failoverMs: number;
}

/** A node, by port or as listed (`ClusterNode`, `LocalRedis`, `{ host, port }`). */
export type NodeRef = number | { readonly port: number };

export interface LocalRedisCluster {
  /** Every node (masters first, as started), for `new Cluster(nodes)`. */
  readonly nodes: ReadonlyArray<{ host: string; port: number }>;
  readonly servers: ReadonlyArray<LocalRedis>;
  /** The nodes with their current roles, as the first node that answers sees them. */
  listNodes(): Promise<ClusterNode[]>;
  /** Sends a signal to a node's process and returns at once. */
  kill(node: NodeRef, signal: NodeJS.Signals): void;
  /**
   * Waits until a master's replicas have all its writes, SIGKILLs the master, then waits until
   * one of them is promoted and every live node reports `cluster_state:ok`.
   */
  failover(options?: FailoverOptions): Promise<FailoverResult>;
  /**
   * Restarts a killed node (same port, dir and node id) and waits until it follows a master,
   * in sync, and the cluster is `ok`; resolves with the time that took (ms).
   */
  rejoin(node: NodeRef, timeoutMs?: number): Promise<number>;
  /** Stops every node (by PID) and removes their directories. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

/**
 * `masters` redis-server processes in cluster mode (each with `replicasPerMaster` replicas) on
 * free loopback ports, joined into one cluster covering every slot. Resolves once every node
 * reports `cluster_state:ok` and every replica `master_link_status:up`.
 * `redis-cli` comes with Debian's redis-server package (redis-tools).
 */
export async function startLocalRedisCluster(
  options: number | LocalRedisClusterOptions = {},
): Promise<LocalRedisCluster> {
  const opts: LocalRedisClusterOptions =
    typeof options === 'number' ? { masters: options } : options;
  const { masters = 3, replicasPerMaster = 0, ...rest } = opts;
  const nodeTimeoutMs = rest.nodeTimeoutMs ?? (replicasPerMaster > 0 ? 2_000 : 5_000);
  const cli = path.join(path.dirname(findRedisServer()), 'redis-cli');
  const total = masters * (1 + replicasPerMaster);

  const started = await Promise.allSettled(
    Array.from({ length: total }, () =>
      startLocalRedis({
        appendonly: rest.appendonly,
        appendfsync: rest.appendfsync,
        cluster: { nodeTimeoutMs },
        // A replica's first sync starts at once instead of waiting 5 s for other replicas.
        extraArgs: ['--repl-diskless-sync-delay', '0', ...(rest.extraArgs ?? [])],
      }),
    ),
  );
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  };
  const serverOf = (node: NodeRef): LocalRedis => {
    const port = typeof node === 'number' ? node : node.port;
    const server = servers.find((s) => s.port === port);
    if (!server) throw new Error(`Expected the port of a node of this cluster, got ${port}`);
    return server;
  };
  const nodesSeenBy = async (port: number): Promise<ClusterNode[]> =>
    parseClusterNodes(await query(port, (r) => r.cluster('NODES') as Promise<string>), servers);
  const listNodes = async (): Promise<ClusterNode[]> => {
    let lastError: unknown;
    for (const server of servers) {
      try {
        return await nodesSeenBy(server.port);
      } catch (err) {
        lastError = err; // down or stopped: ask the next one
      }
    }
    throw new Error('No node of the cluster answered CLUSTER NODES', { cause: lastError });
  };

  try {
    const failure = started.find((s) => s.status === 'rejected');
    if (failure) throw failure.reason;
    // prettier-ignore
    await run(cli, ['--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`),
      '--cluster-replicas', String(replicasPerMaster), '--cluster-yes']);
    await pollUntil('every node ok and every replica in sync', START_TIMEOUT_MS, async () => {
      const nodes = await listNodes();
      const replicas = nodes.filter((n) => n.role === 'replica').length;
      if (replicas !== masters * replicasPerMaster) throw new Error(`${replicas} replicas`);
      for (const node of nodes) await expectHealthy(node.port, total);
      return true;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  // Masters first.
  const roles = await listNodes();
  const isMaster = (s: LocalRedis): boolean =>
    roles.some((n) => n.port === s.port && n.role === 'master');
  servers.sort((a, b) => Number(isMaster(b)) - Number(isMaster(a)));

  return {
    nodes: servers.map((server) => ({ host: '127.0.0.1', port: server.port })),
    servers,
    listNodes,
    stop,
    kill(node: NodeRef, signal: NodeJS.Signals): void {
      serverOf(node).kill(signal);
    },

    async failover({
      master,
      timeoutMs,
      unreplicatedMs = 0,
    }: FailoverOptions = {}): Promise<FailoverResult> {
      const limitMs = timeoutMs ?? Math.max(START_TIMEOUT_MS, 15 * nodeTimeoutMs);
      const before = await listNodes();
      const live = before.filter((n) => !n.failed);
      const replicasOf = (port: number): ClusterNode[] =>
        live.filter((n) => n.role === 'replica' && n.masterPort === port);
      const victim = live.find(
        (n) =>
          n.role === 'master' &&
          (master === undefined || n.port === master) &&
          replicasOf(n.port).length > 0,
      );
      if (!victim) {
        throw new Error(
          `Expected ${master === undefined ? 'a master' : `port ${master} to be a live master`} ` +
            'with a live replica to fail over',
        );
      }
      const replicas = replicasOf(victim.port);
      if (unreplicatedMs > 0) {
        for (const replica of replicas) serverOf(replica).kill('SIGSTOP');
        try {
          await query(victim.port, (r) => r.client('KILL', 'TYPE', 'replica'));
          await new Promise((resolve) => setTimeout(resolve, unreplicatedMs));
        } catch (err) {
          for (const replica of replicas) serverOf(replica).kill('SIGCONT');
          throw err;
        }
      } else {
        const offset = Number(infoField(await replicationInfo(victim.port), 'master_repl_offset'));
        await pollUntil(`the replicas of ${victim.port} to reach offset ${offset}`, limitMs, () =>
          Promise.all(replicas.map((r) => replicationInfo(r.port))).then((infos) =>
            infos.every((info) => Number(infoField(info, 'slave_repl_offset')) >= offset)
              ? true
              : undefined,
          ),
        );
      }

      const killedAt = Date.now();
      serverOf(victim).kill('SIGKILL');
      if (unreplicatedMs > 0) for (const replica of replicas) serverOf(replica).kill('SIGCONT');
      const promotedPort = await pollUntil(
        `a replica of ${victim.port} to take over`,
        limitMs,
        async () => {
          for (const replica of replicas) {
            const role = infoField(await replicationInfo(replica.port), 'role');
            if (role !== 'master') continue;
            for (const node of live) {
              if (node !== victim) await expectHealthy(node.port, total);
            }
            return replica.port;
          }
          return undefined;
        },
      );
      return { killedPort: victim.port, promotedPort, failoverMs: Date.now() - killedAt };
    },

    async rejoin(node: NodeRef, timeoutMs = START_TIMEOUT_MS): Promise<number> {
      const server = serverOf(node);
      const startedAt = Date.now();
      await server.restart();
      await pollUntil(`port ${server.port} to rejoin as a replica`, timeoutMs, async () => {
        // Every live node, itself included, sees it as a replica, and is ok.
        for (const { port } of (await listNodes()).filter((n) => !n.failed)) {
          const self = (await nodesSeenBy(port)).find((n) => n.port === server.port);
          if (self?.role !== 'replica' || self.failed) {
            throw new Error(`${port} sees ${server.port}: ${self?.role}, failed ${self?.failed}`);
          }
          await expectHealthy(port, total);
        }
        return true;
      });
      return Date.now() - startedAt;
    },
  };
}
