import { hostname } from 'node:os';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { AtomicEngine, type AtomicQueuesLogger } from '../core';
import { UsageError } from './args';

/** A problem that stops the CLI before any command runs: one line, exit status 2. */
export class SetupError extends Error {
  override readonly name = 'SetupError';
}

/** The CLI's engine, and the Cluster client it was given (closed with it). */
export interface CliSession {
  engine: AtomicEngine;
  close(): Promise<void>;
}

/** The engine writes its rare lines (Redis outages) to stderr, never to stdout. */
const stderrLogger: AtomicQueuesLogger = {
  log: () => undefined,
  warn: (message: string) => process.stderr.write(`${message}\n`),
  error: (message: string) => process.stderr.write(`${message}\n`),
};

/**
 * Starts a producer-only engine (no job runs, no sweep) on the Redis of `url` under `prefix`:
 * on a Cluster when `cluster` is set or INFO says so. Rejects with RedisConnectionError when
 * Redis can't be reached within `timeoutMs`.
 */
export async function openSession(opts: {
  url: string;
  prefix?: string;
  cluster: boolean;
  timeoutMs: number;
}): Promise<CliSession> {
  const settings = redisSettings(opts.url);
  const cluster =
    opts.cluster || (await isClusterNode(opts.url, opts.timeoutMs))
      ? new Cluster([{ host: settings.host, port: settings.port }], {
          redisOptions: { ...settings, connectTimeout: opts.timeoutMs },
          // Start-up is bounded by the engine's startTimeoutMs.
          clusterRetryStrategy: (times) => Math.min(times * 100, 1000),
        })
      : undefined;
  const engine = new AtomicEngine({
    redis: cluster ?? opts.url,
    keyPrefix: opts.prefix,
    processing: false,
    enableCronManager: false,
    startTimeoutMs: opts.timeoutMs,
    podId: `atomic-queues-cli.${hostname().replace(/[^A-Za-z0-9_.-]/g, '_')}.${process.pid}`,
    logger: stderrLogger,
  });
  const close = async (): Promise<void> => {
    await engine.stop();
    cluster?.disconnect();
  };
  try {
    await engine.start();
  } catch (err) {
    await close();
    throw err;
  }
  return { engine, close };
}

/**
 * Fails with SetupError when nothing of atomic-queues is stored under the engine's prefix: no
 * pod in its registry but the CLI itself, no entity in its index or rest set, no failed jobs.
 */
export async function checkPrefixHasData(engine: AtomicEngine, where: string): Promise<void> {
  const pods = (await engine.listPods()).filter((p) => p.podId !== engine.podId);
  if (pods.length > 0) return;
  if ((await engine.scanEntities({ limit: 1 })).items.length > 0) return;
  if ((await engine.listFailedTypes()).length > 0) return;
  const p = engine.keyPrefix;
  throw new SetupError(
    `No atomic-queues data under prefix "${p}" at ${where}: looked for pods in ${p}:{__aq}:pods, ` +
      `entities in ${p}:{__aq}:index and ${p}:{__aq}:rest, failed jobs in ${p}:{__aq}:failed:*; ` +
      'found none. Is --prefix the keyPrefix your engine uses (default "aq")?',
  );
}

/** Host, port and credentials of a redis:// or rediss:// URL. */
function redisSettings(url: string): RedisOptions & { host: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`Expected --redis to be a redis:// or rediss:// URL, got "${url}"`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new UsageError(`Expected --redis to be a redis:// or rediss:// URL, got "${url}"`);
  return {
    host: parsed.hostname || '127.0.0.1',
    port: Number(parsed.port || 6379),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
  };
}

/** Whether the server at `url` runs in cluster mode; false when it can't be asked. */
async function isClusterNode(url: string, timeoutMs: number): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return /^cluster_enabled:1\b/m.test(await probe.info('cluster'));
  } catch {
    // Unreachable or refused: the engine's start says why (RedisConnectionError).
    return false;
  } finally {
    probe.disconnect();
  }
}
