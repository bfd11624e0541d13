import { AsyncLocalStorage } from 'node:async_hooks';
import type { JobContext } from '../core';

const storage = new AsyncLocalStorage<JobContext>();

/**
 * The context of the job being handled, from anywhere inside its handler (a CQRS handler, a
 * repository it calls, ...): entity type and id, attempt, pod, and the entity's fencing token to
 * pass to your store. `undefined` outside a job.
 *
 * @example
 * ```ts
 * const ctx = currentJobContext();
 * await db.update(account, { ifFenceBelowOrEqual: ctx?.fencingToken });
 * ```
 */
export function currentJobContext(): JobContext | undefined {
  return storage.getStore();
}

/** Runs `fn` with `context` as the current job context. */
export function runWithJobContext<T>(context: JobContext, fn: () => T): T {
  return storage.run(context, fn);
}
