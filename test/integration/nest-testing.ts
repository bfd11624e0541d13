/**
 * Boots Nest test applications around AtomicQueuesModule on the test Redis, each under its own
 * key prefix, and tears them down (app closed, keys removed). Shared by the nest-* tests.
 */
import type { DynamicModule, LoggerService, ModuleMetadata } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { AtomicEngine, AtomicQueuesModule, type AtomicQueuesOptions } from '../../src';
import { cleanPrefix, newRedis, redisUrl, uniquePrefix } from '../helpers/redis';

/** A key prefix of letters, digits and `_`, unique to this test. */
export function nestPrefix(name: string): string {
  return uniquePrefix(`nest${name.replace(/[^A-Za-z0-9]/g, '')}`).replace(/-/g, '_');
}

/** Keeps every log line, so tests stay quiet and can assert on what was logged. */
export class RecordingLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];
  log(message: unknown): void {
    this.push('log', message);
  }
  error(message: unknown): void {
    this.push('error', message);
  }
  warn(message: unknown): void {
    this.push('warn', message);
  }
  debug(message: unknown): void {
    this.push('debug', message);
  }
  verbose(message: unknown): void {
    this.push('verbose', message);
  }
  private push(level: string, message: unknown): void {
    this.lines.push({ level, message: String(message) });
    if (process.env.NEST_TEST_LOGS) console.log(`[${level}] ${String(message)}`);
  }
}

export interface TestApp {
  readonly app: TestingModule;
  readonly prefix: string;
  readonly logger: RecordingLogger;
  get<T>(token: abstract new (...args: never[]) => T): T;
  /** Closes the app (idempotent) and deletes the prefix's keys. */
  close(): Promise<void>;
}

export interface TestAppOptions extends Pick<ModuleMetadata, 'providers' | 'imports'> {
  /** Options beside redis and keyPrefix. */
  options?: Omit<AtomicQueuesOptions, 'redis' | 'keyPrefix'>;
  /** Use this module instead of `AtomicQueuesModule.forRoot(...)` (forRootAsync tests). */
  atomicModule?: (prefix: string) => DynamicModule;
  /** Reuse a prefix (a second pod of the same test). */
  prefix?: string;
}

/** Compiles and initialises (bootstrap hooks: engine started) a test application. */
export async function startApp(name: string, opts: TestAppOptions = {}): Promise<TestApp> {
  const app = await compileApp(name, opts);
  await app.app.init();
  return app;
}

/** Compiles a test application without initialising it. */
export async function compileApp(name: string, opts: TestAppOptions = {}): Promise<TestApp> {
  const prefix = opts.prefix ?? nestPrefix(name);
  const logger = new RecordingLogger();
  const atomic =
    opts.atomicModule?.(prefix) ??
    AtomicQueuesModule.forRoot({ redis: redisUrl(), keyPrefix: prefix, ...opts.options });
  const app = await Test.createTestingModule({
    imports: [atomic, ...(opts.imports ?? [])],
    providers: opts.providers ?? [],
  })
    .setLogger(logger)
    .compile();
  let closed = false;
  return {
    app,
    prefix,
    logger,
    get: <T>(token: abstract new (...args: never[]) => T) => app.get<T>(token, { strict: false }),
    close: async () => {
      if (!closed) {
        closed = true;
        await app.close();
      }
      const redis = newRedis();
      try {
        await cleanPrefix(redis, prefix);
      } finally {
        await redis.quit();
      }
    },
  };
}

/** The engine of a test application. */
export function engineOf(app: TestApp): AtomicEngine {
  return app.get(AtomicEngine);
}

/** A promise with its resolve function, to hold a handler until the test lets it go. */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}
