/**
 * The pod's command connection sends the commands of one turn of the event loop in one socket
 * write: a counting proxy between it and a real Redis sees the 20 commands issued in one turn
 * arrive in at most two reads (the turn's synchronous part, then its promise jobs), and every
 * reply comes back right. An app's own client is left as it is.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import IORedis from 'ioredis';
import { Connections } from '../../src/redis/connections';
import { redisUrl } from '../helpers/redis';

/** Forwards to Redis and counts what arrives from clients, read by read. */
class CountingProxy {
  reads = 0;
  private readonly sockets = new Set<net.Socket>();
  private constructor(readonly server: net.Server) {}

  static async start(target: URL): Promise<CountingProxy> {
    const server = net.createServer();
    const proxy = new CountingProxy(server);
    server.on('connection', (client) => {
      const upstream = net.connect(Number(target.port || 6379), target.hostname);
      proxy.sockets.add(client).add(upstream);
      client.on('data', (chunk) => {
        proxy.reads += 1;
        upstream.write(chunk);
      });
      upstream.on('data', (chunk) => client.write(chunk));
      const close = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('close', close).on('error', close);
      upstream.on('close', close).on('error', close);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('one socket write per turn on the command connection', () => {
  let proxy: CountingProxy;
  before(async () => {
    proxy = await CountingProxy.start(new URL(redisUrl()));
  });
  after(() => proxy.close());

  /** Issues `n` commands in one turn (half synchronously, half in a promise job). */
  async function burst(client: IORedis): Promise<string[]> {
    const key = `writeOncePerTurn:${process.pid}`;
    await client.set(key, 'v');
    proxy.reads = 0;
    const sync = Array.from({ length: 10 }, () => client.get(key));
    const later = Promise.resolve().then(() =>
      Promise.all(Array.from({ length: 10 }, () => client.get(key))),
    );
    const replies = [...(await Promise.all(sync)), ...(await later)];
    await client.del(key);
    return replies as string[];
  }

  it('the engine-opened command connection: one write for the turn, at most two', async () => {
    const connections = new Connections(proxy.url, 'writeOncePerTurn');
    try {
      await connections.start(5_000, () => Promise.resolve());
      const replies = await burst(connections.command as IORedis);
      assert.deepEqual(replies, Array(20).fill('v'));
      assert.ok(proxy.reads <= 2, `20 commands of one turn arrived in ${proxy.reads} reads`);
    } finally {
      await connections.close();
    }
  });

  it('an app client passed in is not changed', async () => {
    const own = new IORedis(proxy.url);
    const connections = new Connections(own, 'writeOncePerTurn');
    try {
      await connections.start(5_000, () => own.ping());
      assert.deepEqual(await burst(own), Array(20).fill('v'));
      assert.equal(Object.hasOwn(own.stream, 'write'), false, 'its socket writes as before');
    } finally {
      await connections.close();
      own.disconnect();
    }
  });
});
