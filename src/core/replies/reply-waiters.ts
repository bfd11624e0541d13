import {
  EngineStateError,
  EnqueueFailedError,
  JobFailedError,
  JobTimeoutError,
} from '../../errors';
import type { Connections } from '../../redis/connections';
import type { Clock, ClockTimer } from '../clock';
import type { JobOutcome } from './job-outcome';

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** Key of the deadline bucket holding this waiter. */
  bucket: number;
  /** For the timeout's error: the entity, and the timeout. */
  entityType: string;
  entityId: string;
  timeoutMs: number;
}

/** Waiters time out in buckets of this many ms (one timer per bucket, not per waiter). */
const BUCKET_MS = 50;

/**
 * The callers of `enqueueAndWait` on this pod, waiting for their jobs' results. The pod listens on
 * one pub/sub channel of its own (one connection, opened on first use); results of jobs awaited
 * here and run here are settled in memory.
 */
export class ReplyWaiters {
  private readonly waiters = new Map<string, Waiter>();
  /** Waiters by deadline, rounded up to BUCKET_MS: a burst of calls shares one timer. */
  private readonly buckets = new Map<number, { timer: ClockTimer; jobIds: Set<string> }>();
  private subscribed?: Promise<void>;
  /** The subscription is up: callers need not await {@link ready}. */
  isReady = false;

  constructor(
    private readonly connections: Connections,
    private readonly channel: string,
    private readonly onError: (error: unknown, context: string) => void,
    private readonly clock: Clock,
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
      const bucket = Math.ceil((this.clock.now() + timeoutMs) / BUCKET_MS) * BUCKET_MS;
      this.waiters.set(jobId, { resolve, reject, bucket, entityType, entityId, timeoutMs });
      let entry = this.buckets.get(bucket);
      if (!entry) {
        const timer = this.clock.setTimeout(() => this.expire(bucket), bucket - this.clock.now());
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
        this.clock.clearTimeout(entry.timer);
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
        : new EnqueueFailedError(waiter.entityType, waiter.entityId, String(error)),
    );
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
      return false; // the sender turns an unserializable result into a failure
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
    for (const { timer } of this.buckets.values()) this.clock.clearTimeout(timer);
    this.buckets.clear();
    for (const [jobId, waiter] of this.waiters) {
      waiter.reject(new EngineStateError(`The engine stopped before job ${jobId} finished`));
    }
    this.waiters.clear();
  }
}
