import type { RedisClient } from '../../redis/connections';
import type { KeyBuilder } from '../../redis/keys';
import { encodeOutcome, outcomeOf, type JobOutcome } from './job-outcome';
import { awaitingPodOf, isReplyId } from './reply-id';
import type { ReplyWaiters } from './reply-waiters';

/** A result published by the complete script itself, once the complete went through. */
export interface CompletionReply {
  /** The return value as BullMQ stores it. */
  returnValue: string;
  channel: string;
  message: string;
}

/**
 * Sends the results of finished jobs to the pods awaiting them: in memory when the caller is on
 * this pod, else on the awaiting pod's channel (the job id names it). Results finished in the
 * same turn of the event loop go out together, one PUBLISH (a JSON array) per pod: under load a
 * pod finishes many jobs per Redis reply it reads, and one message each would cost Redis and the
 * awaiting pod as much as the jobs themselves.
 */
export class ReplySender {
  /** Results to publish at the end of this turn, by channel. */
  private readonly outbox = new Map<string, string[]>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyBuilder,
    private readonly local: ReplyWaiters,
    private readonly onError: (error: unknown, context: string) => void,
  ) {}

  /** Sends a finished job's result if someone awaits it (its id is a reply id). */
  deliver(jobId: string | undefined, status: 'completed' | 'failed', value: unknown): void {
    if (!isReplyId(jobId)) return;
    const outcome = outcomeOf(jobId, status, value);
    if (!this.local.settleLocal(outcome)) this.publish(outcome);
  }

  /**
   * The result of `jobId` as the complete script can publish it, once the complete goes through
   * (one round trip sooner for the caller); undefined when nobody awaits it remotely or the
   * result does not serialize.
   */
  completionReply(jobId: string | undefined, value: unknown): CompletionReply | undefined {
    if (!isReplyId(jobId) || this.local.awaits(jobId)) return undefined;
    let returnValue: string;
    try {
      // As BullMQ stores it: JSON, and 'null' for what JSON can't represent at the top level.
      returnValue = JSON.stringify(value) ?? 'null';
    } catch {
      return undefined;
    }
    return {
      returnValue,
      channel: this.channelOf(jobId),
      message: `[${encodeOutcome({ jobId, status: 'completed', value })}]`,
    };
  }

  private publish(outcome: JobOutcome): void {
    const channel = this.channelOf(outcome.jobId);
    const message = encodeOutcome(outcome);
    const batch = this.outbox.get(channel);
    if (batch) {
      batch.push(message);
      return;
    }
    this.outbox.set(channel, [message]);
    // A microtask, not nextTick: it runs before the finishing runner's next command (its idle
    // script) is written, so the caller's result leaves first.
    if (this.outbox.size === 1) queueMicrotask(() => this.flush());
  }

  private flush(): void {
    const outbox = [...this.outbox];
    this.outbox.clear();
    for (const [channel, messages] of outbox) {
      this.redis
        .publish(channel, `[${messages.join(',')}]`)
        .catch((err: unknown) => this.onError(err, 'sending job results'));
    }
  }

  private channelOf(jobId: string): string {
    return this.keys.replyChannel(awaitingPodOf(jobId));
  }
}
