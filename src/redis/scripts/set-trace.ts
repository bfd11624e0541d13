import { jobKey, type EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';

/**
 * Queues `setTrace-1.lua` on `target` (synchronously: on a pipeline its place is fixed now):
 * stores a delayed job's trace context (`aqt`) in its hash, if the job exists and has none. Its
 * reply is 1 when stored.
 */
export function sendSetTrace(
  target: ScriptTarget,
  keys: EntityKeys,
  jobId: string,
  trace: string,
): Promise<unknown> {
  return runScript(target, 'setTrace', [jobKey(keys, jobId)], [trace]);
}
