import type { EventEmitter } from 'node:events';
import type { AtomicQueuesEvents } from './events';

/**
 * Where the engine writes its few lines (errors of its background loops): the shape of Nest's
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

/**
 * Logs an engine's `error` events, with their stack. With `false`, only keeps an `error`
 * listener (an unheard 'error' event would throw).
 */
export function logEngineEvents(
  engine: EventEmitter<AtomicQueuesEvents>,
  logger: AtomicQueuesLogger | false,
): void {
  engine.on(
    'error',
    logger === false
      ? () => undefined
      : (error, context) => logger.error(`${context}: ${error.message}`, error.stack),
  );
}
