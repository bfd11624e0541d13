// What pack-and-consume.test.ts hands each script, and how a script answers it.
import type { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { QueueBus } from 'atomic-queues';
import Redis from 'ioredis';

/** The Redis to use and a key prefix of this run's own, from the environment. */
export function environment(): { redisUrl: string; keyPrefix: string } {
  const redisUrl = process.env.REDIS_URL;
  const keyPrefix = process.env.AQ_KEY_PREFIX;
  if (!redisUrl || !keyPrefix) throw new Error('Set REDIS_URL and AQ_KEY_PREFIX');
  return { redisUrl, keyPrefix };
}

/** The app's own ioredis client; it and its duplicates are named `<keyPrefix>-app`. */
export function appRedis(redisUrl: string, keyPrefix: string): Redis {
  return new Redis(redisUrl, { connectionName: `${keyPrefix}-app`, maxRetriesPerRequest: null });
}

/** Names of the server's connections that belong to this run (start with `keyPrefix`). */
export async function connectionNames(redis: Redis, keyPrefix: string): Promise<string[]> {
  const list = (await redis.client('LIST')) as string;
  return list
    .split('\n')
    .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith(keyPrefix))
    .sort();
}

/** Prints the script's outcome as the last line of its output, for the test to check. */
export function report(outcome: object): void {
  console.log(`RESULT ${JSON.stringify(outcome)}`);
}

/** Runs `main`; an error fails the process with a non-zero exit code. */
export function run(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}

/**
 * Boots a Nest app, sends `commands` one after the other with `enqueueAndWait`, reports their
 * results and the run's connections, and shuts down: the app, then the app's own client.
 */
export function roundTrip(appModule: Type, redis: Redis, commands: object[]): void {
  const { keyPrefix } = environment();
  run(async () => {
    const app = await NestFactory.createApplicationContext(appModule, {
      logger: ['error', 'warn'],
    });
    const bus = app.get(QueueBus);
    const results: unknown[] = [];
    for (const command of commands)
      results.push(await bus.enqueueAndWait(command, { timeoutMs: 10_000 }));
    const connections = await connectionNames(redis, keyPrefix);
    await app.close();
    await redis.quit();
    report({ results, connections });
  });
}
