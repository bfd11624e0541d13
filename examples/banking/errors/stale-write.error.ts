/**
 * A write carried a fencing token older than one the account has already seen: the pod that sent
 * it lost its lease (stalled, partitioned) and another pod has taken the account over since. The
 * write is refused; the job fails on the stale pod and is never acknowledged there.
 */
export class StaleWriteError extends Error {
  constructor(
    readonly accountId: string,
    readonly fence: number,
    readonly seenFence: number,
  ) {
    super(`Write to account ${accountId} with fencing token ${fence} refused: ${seenFence} seen`);
    this.name = 'StaleWriteError';
  }
}
