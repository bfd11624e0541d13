import { performance } from 'node:perf_hooks';
import { until } from '../../support/async';

/**
 * Epoch milliseconds with sub-millisecond resolution. Every process on the machine shares the
 * clock, so a pod's timestamps and the parent's can be compared directly.
 */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Thrown when a benchmark passes its overall time budget. */
export class DeadlineError extends Error {
  constructor(
    readonly budgetSeconds: number,
    readonly phase: string,
  ) {
    super(
      `The benchmark did not finish within its ${budgetSeconds} s budget (phase: ${phase}). ` +
        'Raise it with --timeout SECONDS, or run fewer phases with --only.',
    );
    this.name = 'DeadlineError';
  }
}

/** The overall time budget of one run, and the phase it is in (for error messages). */
export class Deadline {
  readonly startedAt = Date.now();
  readonly endsAt: number;
  phase = 'starting';

  constructor(readonly budgetSeconds: number) {
    this.endsAt = this.startedAt + budgetSeconds * 1000;
  }

  remainingMs(): number {
    return Math.max(0, this.endsAt - Date.now());
  }

  /** Throws a DeadlineError once the budget is spent. */
  check(): void {
    if (Date.now() >= this.endsAt) throw new DeadlineError(this.budgetSeconds, this.phase);
  }

  /** Options for a wait that fails after `stallMs` without progress, or at this deadline. */
  limits(stallMs: number): { stallMs: number; deadline: Deadline } {
    return { stallMs, deadline: this };
  }

  error(): DeadlineError {
    return new DeadlineError(this.budgetSeconds, this.phase);
  }
}

/**
 * Polls `predicate` every `intervalMs` until it returns true; throws `message` after `timeoutMs`
 * (or when the run's deadline passes first).
 */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; message: string; deadline?: Deadline },
): Promise<void> {
  // Stops at the run's deadline too, where check() throws its DeadlineError.
  const timeoutMs = Math.min(opts.timeoutMs, opts.deadline?.remainingMs() ?? Infinity);
  if (await until(predicate, { timeoutMs, intervalMs: opts.intervalMs ?? 50 })) return;
  opts.deadline?.check();
  throw new Error(`Timed out after ${opts.timeoutMs} ms waiting for ${opts.message}`);
}

/** Rounds to `digits` decimals (JSON and tables stay readable). */
export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
