import type { EventEmitter } from 'node:events';
import type { AtomicQueuesEvents } from './events';

/**
 * Where the engine writes its few lines (background errors, Redis outages): the shape of Nest's
 * `LoggerService`, so Nest's `Logger` fits as it is.
 */
export interface AtomicQueuesLogger {
  log(message: string, ...optionalParams: unknown[]): unknown;
  warn(message: string, ...optionalParams: unknown[]): unknown;
  error(message: string, ...optionalParams: unknown[]): unknown;
  debug?(message: string, ...optionalParams: unknown[]): unknown;
}

const PREFIX = '[atomic-queues]';

/** The default logger: the console, each line prefixed `[atomic-queues]`; no debug lines. */
export const consoleLogger: AtomicQueuesLogger = Object.freeze({
  log: (message: string) => console.log(`${PREFIX} ${message}`),
  warn: (message: string) => console.warn(`${PREFIX} ${message}`),
  error: (message: string, ...optionalParams: unknown[]) =>
    console.error(`${PREFIX} ${message}`, ...optionalParams),
});

/** `850 ms`, `12.3 s`. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Logs an engine's `error` events (with their stack), its Redis outages (one warning when Redis
 * is lost, one line when it is back, with how long it was down), every job's final failure once
 * (job, entity, attempts, error, stack) and, at debug level, each failed attempt that will be
 * retried. With `false`, only keeps an `error` listener (an unheard 'error' event would throw).
 */
export function logEngineEvents(
  engine: EventEmitter<AtomicQueuesEvents>,
  logger: AtomicQueuesLogger | false,
): void {
  if (logger === false) {
    engine.on('error', () => undefined);
    return;
  }
  engine.on('error', (error, context) => logger.error(`${context}: ${error.message}`, error.stack));
  engine.on('redis:lost', ({ target, message }) =>
    logger.warn(`Redis connection lost (${target}): ${message}; reconnecting`),
  );
  engine.on('redis:restored', ({ target, downtimeMs }) =>
    logger.log(`Redis connection restored (${target}) after ${formatDuration(downtimeMs)} down`),
  );
  engine.on('job:failed', (e) =>
    logger.error(
      `Job ${e.jobId} (${e.name}) of ${e.entityType} \`${e.entityId}\` failed after ` +
        `${e.attempts} attempt(s): ${describe(e.error)}`,
      e.error instanceof Error ? e.error.stack : undefined,
    ),
  );
  const debug = logger.debug?.bind(logger);
  if (debug)
    engine.on('job:retrying', (e) =>
      debug(
        `Job ${e.jobId} (${e.name}) of ${e.entityType} \`${e.entityId}\`: attempt ${e.attempt} ` +
          `failed (${describe(e.error)}); retrying in ${formatDuration(e.delayMs)}`,
      ),
    );
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
