/**
 * Waiting without guessing: poll a condition with a deadline rather than sleep for a duration
 * that happens to be long enough on one machine. Dev-only (see support/README.md).
 */

/** Resolves after `ms` milliseconds (on the next timer turn when `ms` ≤ 0). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

export interface UntilOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Pause between two calls of the predicate. Default 25 ms. */
  intervalMs?: number;
}

/**
 * Polls `predicate` until it returns true (→ true) or `timeoutMs` has passed (→ false). It is
 * called at least once; an error it throws ends the wait. For callers that word their own
 * timeout error, or do something else on timeout.
 */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  { timeoutMs, intervalMs = 25 }: UntilOptions,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

export interface WaitForOptions {
  /** Give up after this long. Default 5000 ms. */
  timeoutMs?: number;
  /** Pause between two calls of the predicate. Default 25 ms. */
  intervalMs?: number;
  /** What was expected, for the timeout error; a function is called only on timeout. */
  message?: string | (() => string);
}

/**
 * Polls `predicate` until it returns true, or throws `waitFor timed out after N ms: message`.
 * A predicate that throws counts as "not yet"; the last error becomes the timeout error's cause.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  { timeoutMs = 5_000, intervalMs = 25, message = 'condition' }: WaitForOptions = {},
): Promise<void> {
  let lastError: unknown;
  const held = await until(
    async () => {
      try {
        const ok = await predicate();
        lastError = undefined;
        return ok;
      } catch (err) {
        lastError = err;
        return false;
      }
    },
    { timeoutMs, intervalMs },
  );
  if (held) return;
  const what = typeof message === 'function' ? message() : message;
  throw new Error(`waitFor timed out after ${timeoutMs} ms: ${what}`, { cause: lastError });
}

/** Runs `worker` over `items` with at most `parallel` calls in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  parallel: number,
  worker: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(parallel, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await worker(items[i], i);
    }
  });
  await Promise.all(lanes);
  return out;
}

/** A promise a test opens when it wants: holds a handler where the test decides. */
export interface Gate {
  readonly wait: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}
