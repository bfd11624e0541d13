import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';

/** One job for `add-6.lua`: a standalone job, neither delayed nor prioritized. */
export interface AddJobArgs {
  /** The caller's id, or undefined for the queue's next number. */
  jobId: string | undefined;
  name: string;
  timestamp: number;
  /** The payload as JSON. */
  data: string;
  /** The job's options as BullMQ stores them (JSON). */
  opts: string;
}

/**
 * Queues `add-6.lua` on `target` (synchronously: on a pipeline its place is fixed now). The
 * reply, once the target answers, goes through {@link decodeAdd}.
 */
export function sendAdd(target: ScriptTarget, keys: EntityKeys, job: AddJobArgs): Promise<unknown> {
  return runScript(
    target,
    'add',
    [keys.wait, keys.meta, keys.id, keys.active, keys.events, keys.marker],
    [keys.jobPrefix, job.jobId ?? '', job.name, job.timestamp, job.data, job.opts],
  );
}

/** The stored job's id (a duplicate id comes back as itself, as BullMQ does). */
export function decodeAdd(raw: unknown): string {
  return String(raw);
}
