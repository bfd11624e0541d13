import { jobKey, type EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';
import { decodeJobReply, type JobReply } from './add';

/**
 * Awaits the result of a job by id (`await-3.lua`): its result when it has finished, else the
 * pod joins its waiters ('pending') and hears of it from the finishing script; 'missing' when no
 * such job is stored. Queue it on a pipeline with {@link sendAwait}.
 */
export async function awaitJob(
  target: ScriptTarget,
  keys: EntityKeys,
  jobId: string,
  podId: string,
): Promise<JobReply> {
  return decodeJobReply(await sendAwait(target, keys, jobId, podId));
}

export function sendAwait(
  target: ScriptTarget,
  keys: EntityKeys,
  jobId: string,
  podId: string,
): Promise<unknown> {
  return runScript(
    target,
    'await',
    [jobKey(keys, jobId), keys.completed, keys.failed],
    [jobId, podId],
  );
}
