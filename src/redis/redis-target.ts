import type { Cluster, Redis } from 'ioredis';

/**
 * A Redis URL fit for a message: credentials (`user:password@`) and the query string (ioredis
 * reads `?password=` there too) replaced by `***`. Also takes strings that are not URLs.
 */
export function maskRedisUrl(url: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url)?.[0] ?? '';
  let rest = url.slice(scheme.length);
  // The last `@` ends the credentials: a password may itself contain `@` or `/`.
  const at = rest.lastIndexOf('@');
  if (at >= 0) rest = `***${rest.slice(at)}`;
  const query = rest.indexOf('?');
  if (query >= 0) rest = `${rest.slice(0, query)}?***`;
  return `${scheme}${rest}`;
}

function hostPort(host: string | undefined, port: number | undefined): string {
  const h = host ?? 'localhost';
  return `${h.includes(':') ? `[${h}]` : h}:${port ?? 6379}`;
}

/**
 * Where a client connects, for messages: `host:port`, the socket path, the Sentinels, or the
 * Cluster's nodes. Read from the client's resolved options, so never with credentials.
 */
export function describeRedisTarget(client: Redis | Cluster): string {
  if (client.isCluster) {
    const nodes = (client as Cluster)
      .nodes('all')
      .map((node) => hostPort(node.options.host, node.options.port));
    return nodes.length > 0 ? `Redis Cluster ${nodes.join(', ')}` : 'Redis Cluster';
  }
  const o = (client as Redis).options;
  if (o.sentinels && o.sentinels.length > 0) {
    const sentinels = o.sentinels.map((s) => hostPort(s.host, s.port)).join(', ');
    return `master \`${o.name ?? ''}\` via Sentinels ${sentinels}`;
  }
  if (o.path) return `socket ${o.path}`;
  return hostPort(o.host, o.port);
}
