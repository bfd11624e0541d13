import { JobFailedError, JobTimeoutError } from '../../src';

/**
 * WORKAROUND (engine, src/core/engine.ts `enqueueAndWait`): the promise of the job's outcome is
 * created before the enqueue is awaited and only awaited after it. If the outcome rejects first
 * (the job failed fast on another pod), or the enqueue itself rejects (EnqueueTimeoutError) and
 * the outcome later times out, that rejection has no handler yet / ever, and Node's default
 * (unhandled rejections throw) kills the process. The caller still gets its own rejection, so a
 * driver ignores exactly those two errors here; anything else still ends the process.
 */
export function ignoreLateReplyRejections(): void {
  process.on('unhandledRejection', (reason: unknown) => {
    if (reason instanceof JobFailedError || reason instanceof JobTimeoutError) return;
    console.error('Unhandled rejection:', reason);
    process.exit(1);
  });
}
