/** A timer started by a {@link Clock}; only its clock can cancel it. */
export interface ClockTimer {
  readonly __clockTimer?: never;
}

/**
 * The engine's time: timestamps and timers of one process. Injected (engine option `clock`,
 * internal) so that logic built on it runs under a fake clock in unit tests, with no sleeps.
 * Nothing that must agree across processes should depend on it: that takes time from Redis.
 */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer | undefined): void;
}

/**
 * This process's time and Node timers. `now()` is the wall clock at start plus a monotonic
 * count since: durations measured with it hold when the system clock is stepped.
 */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms) as unknown as ClockTimer,
  clearTimeout: (timer) => clearTimeout(timer as unknown as NodeJS.Timeout | undefined),
};

/** Resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/**
 * A clock that moves only when told: for unit tests of the engine's timing logic, and for the
 * in-memory engine of `atomic-queues/testing` (delays, retry backoffs, idle timeouts and
 * `enqueueAndWait` timeouts then happen when a test moves time). `advance(ms)` runs every timer
 * due by then, in order of their due time.
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): ClockTimer {
    this.seq += 1;
    this.timers.set(this.seq, { at: this.time + Math.max(0, ms), callback });
    return { id: this.seq } as unknown as ClockTimer;
  }

  clearTimeout(timer: ClockTimer | undefined): void {
    if (timer) this.timers.delete((timer as unknown as { id: number }).id);
  }

  /** Timers not yet run. */
  get pending(): number {
    return this.timers.size;
  }

  /** When the earliest pending timer falls due; undefined when none is pending. */
  nextAt(): number | undefined {
    let next: number | undefined;
    for (const { at } of this.timers.values()) if (next === undefined || at < next) next = at;
    return next;
  }

  /** Moves time forward by `ms`, running each timer that falls due, earliest first. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.timers) if (!next || entry[1].at < next[1].at) next = entry;
      if (!next || next[1].at > until) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].callback();
    }
    this.time = until;
  }
}
