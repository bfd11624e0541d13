import { InvalidOptionsError } from '../../errors';
import { systemClock, type Clock } from '../clock';
import type { AtomicQueuesOptions, RedisConnection } from '../options/atomic-queues-options';
import type { ResolvedOptions } from '../options/resolved-options';
import { resolveOptions } from '../options/resolve-options';

/** Options of the in-memory engine: the engine's, with `redis` optional (unused) and a clock. */
export interface InMemoryEngineOptions extends Omit<AtomicQueuesOptions, 'redis'> {
  /** Not used (there is no Redis); accepted so that an app's options can be passed as they are. */
  redis?: RedisConnection;
  /**
   * The engine's time: delays, retry backoffs, idle timeouts and `enqueueAndWait` timeouts.
   * With a `ManualClock` they happen only when the test moves time (`advanceTime`).
   * @defaultValue the system clock
   */
  clock?: Clock;
}

/** Stands for `redis` in the options check: nothing ever connects to it. */
const NO_REDIS = 'redis://in-memory';

/** The in-memory engine's options checked as the Redis engine checks its own, and its clock. */
export function resolveMemoryOptions(options: InMemoryEngineOptions): {
  options: ResolvedOptions;
  clock: Clock;
} {
  if (typeof options !== 'object' || options === null)
    throw new InvalidOptionsError('options', 'an object', options);
  const { clock = systemClock, redis = NO_REDIS, ...rest } = options;
  const resolved = resolveOptions({ ...rest, redis });
  if (!isClock(clock))
    throw new InvalidOptionsError(
      'clock',
      'a Clock (now, setTimeout, clearTimeout), e.g. a ManualClock',
      clock,
    );
  return { options: resolved, clock };
}

function isClock(value: unknown): value is Clock {
  const clock = value as Record<string, unknown> | null;
  return (
    typeof clock === 'object' &&
    clock !== null &&
    ['now', 'setTimeout', 'clearTimeout'].every((m) => typeof clock[m] === 'function')
  );
}
