import type { RedisClient } from '../../redis/connections';
import type { KeyBuilder } from '../../redis/keys';
import { encodeOutcome, outcomeOf, type JobOutcome } from './job-outcome';
import type { ReplyWaiters } from './reply-waiters';

/** A result the finishing script publishes itself, to each awaiting pod but this one. */
export interface CompletionReply {
  channelPrefix: string;
  message: string;
}

/**
 * Sends the results of finished jobs to the pods awaiting them (the job's waiters, as its
 * finishing script read them): in memory to callers on this pod, else on each awaiting pod's
 * channel. Results finished in the same turn of the event loop go out together, one PUBLISH (a
 * JSON array) per pod: under load a pod finishes many jobs per Redis reply it reads, and one
 * message each would cost Redis and the awaiting pod as much as the jobs themselves.
 */
export class ReplySender {
  /** Results to publish at the end of this turn, by channel. */
  private readonly outbox = new Map<string, string[]>();
  private readonly channelPrefix: string;

  constructor(
    private readonly redis: RedisClient,
    keys: KeyBuilder,
    private readonly podId: string,
    private readonly local: ReplyWaiters,
    private readonly onError: (error: unknown, context: string) => void,
  ) {
    this.channelPrefix = keys.replyChannel('');
  }

  /**
   * A finished job's result to its waiters; `published`: the finishing script published it to
   * the other pods already.
   */
  deliver(
    jobId: string,
    status: 'completed' | 'failed',
    value: unknown,
    waiters: readonly string[],
    published = false,
  ): void {
    if (waiters.length === 0) return;
    const outcome = outcomeOf(jobId, status, value);
    for (const pod of waiters) {
      if (pod === this.podId) this.local.settle(outcome, true);
      else if (!published) this.publish(pod, outcome);
    }
  }

  /** The prefix of the pods' reply channels (`<prefix><pod>`), for scripts that publish. */
  get replyChannelPrefix(): string {
    return this.channelPrefix;
  }

  /**
   * The result of a job as a finishing script can publish it itself (one round trip sooner for
   * the callers).
   */
  message(jobId: string, status: 'completed' | 'failed', value: unknown): string {
    return `[${encodeOutcome(outcomeOf(jobId, status, value))}]`;
  }

  /** {@link message} with the channel prefix, for step-4.lua. */
  completionReply(jobId: string, status: 'completed' | 'failed', value: unknown): CompletionReply {
    return { channelPrefix: this.channelPrefix, message: this.message(jobId, status, value) };
  }

  private publish(pod: string, outcome: JobOutcome): void {
    const channel = `${this.channelPrefix}${pod}`;
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
}
