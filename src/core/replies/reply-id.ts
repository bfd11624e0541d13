/**
 * Ids of jobs awaited with `enqueueAndWait`: `aqr.<pod>.<n>`. The id names the awaiting pod, so
 * the holder knows where to send the result; finishing a job nobody awaits costs nothing. Made
 * and read only here.
 */
const PREFIX = 'aqr.';

/** The reply id of the `seq`-th awaited job of `podId`. */
export function makeReplyId(podId: string, seq: number): string {
  return `${PREFIX}${podId}.${seq.toString(36)}`;
}

/** True for an id {@link makeReplyId} made (callers may not use the prefix for their own ids). */
export function isReplyId(jobId: string | undefined): jobId is string {
  return jobId !== undefined && jobId.startsWith(PREFIX);
}

/** The pod awaiting a reply id's result. */
export function awaitingPodOf(replyId: string): string {
  return replyId.slice(PREFIX.length, replyId.lastIndexOf('.'));
}
