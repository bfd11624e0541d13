import { AtomicQueuesError } from '../errors';
import type { KeyBuilder } from '../redis/keys';
import type { Connections, RedisClient } from './connections';

export type JobOutcome =
  | { jobId: string; status: 'completed'; value: unknown }
  | { jobId: string; status: 'failed'; error: { name: string; message: string } };

/** The handler of a job awaited with `enqueueAndWait` threw; carries its error's name and message. */
export class JobFailedError extends AtomicQueuesError {
  constructor(
    readonly jobId: string,
    readonly handlerErrorName: string,
    handlerMessage: string,
  ) {
    super('JOB_FAILED', handlerMessage);
    this.name = handlerErrorName;
  }
}

/** No result arrived for a job awaited with `enqueueAndWait` within its timeout. */
export class JobTimeoutError extends AtomicQueuesError {
  constructor(
    readonly jobId: string,
    entity: string,
    timeoutMs: number,
  ) {
    super(
      'JOB_TIMEOUT',
      `No result for job ${jobId} of ${entity} within ${timeoutMs} ms (it may still run)`,
    );
  }
}

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** Key of the deadline bucket holding this waiter. */
  bucket: number;
  /** For the timeout's error: the entity as `type \`id\``, and the timeout. */
  entityType: string;
  entityId: string;
  timeoutMs: number;
}

/** Waiters time out in buckets of this many ms (one timer per bucket, not per waiter). */
const BUCKET_MS = 50;

/**
 * Routes job results back to the pod that awaits them. Each pod listens on one pub/sub channel of
 * its own (one connection, opened on first use); the job id (`aqr.<pod>.<n>`) names the channel
 * to answer on, so finishing a job that nobody awaits costs nothing.
 */
export class ReplyRouter {
  private readonly waiters = new Map<string, Waiter>();
  /** Waiters by deadline, rounded up to BUCKET_MS: a burst of calls shares one timer. */
  private readonly buckets = new Map<number, { timer: NodeJS.Timeout; jobIds: Set<string> }>();
  /** Results to publish at the end of this turn, by channel. */
  private readonly outbox = new Map<string, string[]>();
  private subscribed?: Promise<void>;
  /** The subscription is up: callers need not await {@link ready}. */
  isReady = false;

  constructor(
    private readonly connections: Connections,
    private readonly channel: string,
    private readonly onError: (error: unknown, context: string) => void,
  ) {}

  ready(): Promise<void> {
    this.subscribed ??= this.subscribe();
    return this.subscribed;
  }

  private async subscribe(): Promise<void> {
    const sub = this.connections.subscriber;
    sub.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      try {
        const parsed = JSON.parse(message) as JobOutcome | JobOutcome[];
        if (Array.isArray(parsed)) for (const outcome of parsed) this.settle(outcome);
        else this.settle(parsed);
      } catch (err) {
        this.onError(err, 'reading a job result');
      }
    });
    await sub.subscribe(this.channel);
    this.isReady = true;
  }

  expect(jobId: string, timeoutMs: number, entityType: string, entityId: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const bucket = Math.ceil((Date.now() + timeoutMs) / BUCKET_MS) * BUCKET_MS;
      this.waiters.set(jobId, { resolve, reject, bucket, entityType, entityId, timeoutMs });
      let entry = this.buckets.get(bucket);
      if (!entry) {
        const timer = setTimeout(() => this.expire(bucket), bucket - Date.now());
        entry = { timer, jobIds: new Set() };
        this.buckets.set(bucket, entry);
      }
      entry.jobIds.add(jobId);
    });
  }

  private expire(bucket: number): void {
    const entry = this.buckets.get(bucket);
    if (!entry) return;
    this.buckets.delete(bucket);
    for (const jobId of entry.jobIds) {
      const waiter = this.waiters.get(jobId);
      if (!waiter) continue;
      this.waiters.delete(jobId);
      waiter.reject(
        new JobTimeoutError(jobId, `${waiter.entityType} \`${waiter.entityId}\``, waiter.timeoutMs),
      );
    }
  }

  /** Removes a settled waiter; its bucket's timer goes when the bucket empties. */
  private take(jobId: string): Waiter | undefined {
    const waiter = this.waiters.get(jobId);
    if (!waiter) return undefined;
    this.waiters.delete(jobId);
    const entry = this.buckets.get(waiter.bucket);
    if (entry) {
      entry.jobIds.delete(jobId);
      if (entry.jobIds.size === 0) {
        clearTimeout(entry.timer);
        this.buckets.delete(waiter.bucket);
      }
    }
    return waiter;
  }

  /** Stops waiting for a job whose enqueue failed: its promise rejects with that error. */
  forget(jobId: string, error: unknown): void {
    const waiter = this.take(jobId);
    if (!waiter) return;
    waiter.reject(
      error instanceof Error
        ? error
        : new AtomicQueuesError(
            'ENQUEUE_FAILED',
            `Job ${jobId} was not enqueued: ${String(error)}`,
          ),
    );
  }

  /**
   * Publishes a result on the channel of the pod that awaits it. Results finished in the same
   * turn of the event loop go out together, one PUBLISH (a JSON array) per pod: under load a
   * pod finishes many jobs per Redis reply it reads, and one message each would cost Redis and
   * the awaiting pod as much as the jobs themselves.
   */
  send(command: RedisClient, keys: KeyBuilder, outcome: JobOutcome): void {
    const channel = replyChannelOf(keys, outcome.jobId);
    const message = encodeOutcome(outcome);
    const batch = this.outbox.get(channel);
    if (batch) {
      batch.push(message);
      return;
    }
    this.outbox.set(channel, [message]);
    // A microtask, not nextTick: it runs before the finishing runner's next command (its idle
    // script) is written, so the caller's result leaves first.
    if (this.outbox.size === 1) queueMicrotask(() => this.flush(command));
  }

  /**
   * One result as {@link send} would publish it, for a publish made elsewhere (the holder's
   * reply-with-completion, published by `complete-11.lua`): the awaiting pod reads both alike.
   */
  static publication(keys: KeyBuilder, outcome: JobOutcome): { channel: string; message: string } {
    return { channel: replyChannelOf(keys, outcome.jobId), message: `[${encodeOutcome(outcome)}]` };
  }

  private flush(command: RedisClient): void {
    const outbox = [...this.outbox];
    this.outbox.clear();
    for (const [channel, messages] of outbox) {
      command
        .publish(channel, `[${messages.join(',')}]`)
        .catch((err: unknown) => this.onError(err, 'sending job results'));
    }
  }

  /** Whether a caller on this pod awaits the job (its result is then settled in memory). */
  awaits(jobId: string): boolean {
    return this.waiters.has(jobId);
  }

  /** Settles a result awaited on this pod without a round trip; false when nobody here waits. */
  settleLocal(outcome: JobOutcome): boolean {
    if (!this.waiters.has(outcome.jobId)) return false;
    // Through JSON as a published result would be, so callers see the same shape either way.
    let copy: JobOutcome;
    try {
      copy = JSON.parse(JSON.stringify(outcome)) as JobOutcome;
    } catch {
      return false; // send() turns an unserializable result into a failure
    }
    this.settle(copy);
    return true;
  }

  private settle(outcome: JobOutcome): void {
    const waiter = this.take(outcome.jobId);
    if (!waiter) return;
    if (outcome.status === 'completed') waiter.resolve(outcome.value);
    else
      waiter.reject(new JobFailedError(outcome.jobId, outcome.error.name, outcome.error.message));
  }

  close(): void {
    for (const { timer } of this.buckets.values()) clearTimeout(timer);
    this.buckets.clear();
    for (const [jobId, waiter] of this.waiters) {
      waiter.reject(
        new AtomicQueuesError('ENGINE_STOPPED', `The engine stopped before job ${jobId} finished`),
      );
    }
    this.waiters.clear();
  }
}

/** A job id made by enqueueAndWait, `aqr.<pod>.<n>`, names the channel of the pod that awaits it. */
function replyChannelOf(keys: KeyBuilder, jobId: string): string {
  return keys.replyChannel(jobId.slice(4, jobId.lastIndexOf('.')));
}

function encodeOutcome(outcome: JobOutcome): string {
  try {
    return JSON.stringify(outcome);
  } catch {
    return JSON.stringify({
      jobId: outcome.jobId,
      status: 'failed',
      error: { name: 'TypeError', message: 'The result does not serialize to JSON' },
    });
  }
}
