import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';

/** The Redis the test run uses; `npm test` starts one and sets REDIS_URL when it is unset. */
export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) {
    throw new Error(
      'REDIS_URL is not set: run the tests with `npm test` (it starts a local redis-server), ' +
        'or set REDIS_URL=redis://host:port.',
    );
  }
  return url;
}

/** A new ioredis client on REDIS_URL; the caller closes it (`quit()`). */
export function newRedis(options: RedisOptions = {}): Redis {
  return new Redis(redisUrl(), options);
}

/**
 * A key prefix no other test (or earlier run) uses, e.g. `t_ordering_m3k2x1a9f3c`. Contains no
 * `:`, `{`, `}` or glob characters, so it is safe in key names, hash tags and SCAN patterns.
 */
export function uniquePrefix(name: string): string {
  const slug = name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40);
  return `t_${slug}_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** Deletes every key matching `${prefix}:*` with SCAN (never KEYS); returns how many it deleted. */
export async function cleanPrefix(redis: Redis, prefix: string): Promise<number> {
  const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/**
 * Connected clients from CLIENT LIST, the calling connection included; with `nameFilter`, only
 * those whose `name=` (set with CLIENT SETNAME / ioredis `connectionName`) contains it.
 */
export async function clientCount(redis: Redis, nameFilter?: string): Promise<number> {
  const list = (await redis.client('LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => {
      if (nameFilter === undefined) return true;
      const name = /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '';
      return name.includes(nameFilter);
    }).length;
}
