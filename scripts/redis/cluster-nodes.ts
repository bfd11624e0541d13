/**
 * Reading a local Redis Cluster's state, one node at a time: its view of the nodes
 * (`CLUSTER NODES`), whether it is healthy (`CLUSTER INFO`, `INFO replication`).
 */
import { Redis } from 'ioredis';
import type { LocalRedis } from './single';

/** One node as a live node of the cluster sees it (`CLUSTER NODES`). */
export interface ClusterNode {
  readonly id: string;
  readonly port: number;
  /** PID of the node's current process. */
  readonly pid: number;
  readonly role: 'master' | 'replica';
  /** For a replica: the port of the master it follows. */
  readonly masterPort?: number;
  /** Flagged `fail` or `fail?`: the cluster, or the node asked, can't reach it. */
  readonly failed: boolean;
  /** For a master: the slot ranges it serves, e.g. `[[0, 5460]]`. */
  readonly slots: ReadonlyArray<readonly [number, number]>;
}

/** One short-lived connection to a node on 127.0.0.1; fails fast instead of retrying. */
export async function query<T>(port: number, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // connect() or the command rejects with the same error; no 'Unhandled error event' noise.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

/** `field:value` lines of INFO / CLUSTER INFO. */
export function infoField(text: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*?)\\r?$`, 'm').exec(text)?.[1];
}

export async function replicationInfo(port: number): Promise<string> {
  return query(port, (r) => r.info('replication'));
}

/** Throws what is not ready yet (for `pollUntil` to report), else resolves `true`. */
export async function expectHealthy(port: number, knownNodes: number): Promise<true> {
  const info = await query(port, (r) => r.cluster('INFO'));
  const state = infoField(info, 'cluster_state');
  const known = Number(infoField(info, 'cluster_known_nodes'));
  if (state !== 'ok' || known !== knownNodes) {
    throw new Error(`port ${port}: cluster_state ${state}, knows ${known}/${knownNodes} nodes`);
  }
  const replication = await replicationInfo(port);
  const link = infoField(replication, 'master_link_status');
  if (infoField(replication, 'role') === 'slave' && link !== 'up') {
    throw new Error(`port ${port}: replica with master_link_status ${link}`);
  }
  return true;
}

/** `CLUSTER NODES` output, masters first, then by port. */
export function parseClusterNodes(text: string, servers: readonly LocalRedis[]): ClusterNode[] {
  const rows = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.trim().split(' '));
  const portOf = new Map(rows.map(([id, address]) => [id, Number(/:(\d+)@/.exec(address)?.[1])]));
  const nodes = rows.map(([id, , flagList, masterId, , , , , ...slotList]): ClusterNode => {
    const flags = flagList.split(',');
    const port = portOf.get(id)!;
    const replica = flags.includes('slave');
    return {
      id,
      port,
      pid: servers.find((s) => s.port === port)?.pid ?? -1,
      role: replica ? 'replica' : 'master',
      masterPort: replica ? portOf.get(masterId) : undefined,
      failed: flags.includes('fail') || flags.includes('fail?'),
      slots: slotList
        .filter((slot) => !slot.startsWith('[')) // slots being migrated
        .map((slot) => {
          const [first, last = first] = slot.split('-').map(Number);
          return [first, last] as const;
        }),
    };
  });
  return nodes.sort(
    (a, b) => Number(a.role !== 'master') - Number(b.role !== 'master') || a.port - b.port,
  );
}
