import { EngineStateError, EnqueueFailedError, JobTimeoutError } from '../../errors';
import type { Connections, RedisClient } from '../../redis/connections';
import type { Clock, ClockTimer } from '../clock';
import { settleWith, type JobOutcome } from './job-outcome';

/** One caller waiting for one job's result. */
export interface Waiter {
  readonly promise: Promise<unknown>;
  /** Settles this caller with an outcome known now (a job that had finished already). */
  settle(outcome: JobOutcome): void;
  /** Stops waiting: this caller's promise rejects with `error` (its enqueue failed). */
  fail(error: unknown): void;
}

/** A job callers here await, and its entity. */
export interface AwaitedJob {
  readonly jobId: string;
  readonly entityType: string;
  readonly entityId: string;
}

/** Looks a job up in Redis: its outcome when it has finished, else undefined. */
export type StoredOutcome = (job: AwaitedJob) => Promise<JobOutcome | undefined>;

/** Waiters time out in buckets of this many ms (one timer per bucket, not per waiter). */
const BUCKET_MS = 50;

/**
 * The callers on this pod waiting for jobs' results (`enqueueAndWait`, `waitForJob`). The pod
 * listens on one pub/sub channel of its own (one connection, opened on first use); the pods
 * finishing the jobs answer there, and results of jobs run here are settled in memory. Several
 * callers may wait for the same job id: each gets the result.
 */
export class ReplyWaiters {
  /** By job id: one waiter, or a Set when several callers here await the same job (rare). */
  private readonly waiters = new Map<string, Pending | Set<Pending>>();
  /** Waiters by deadline, rounded up to BUCKET_MS: a burst of calls shares one timer. */
  private readonly buckets = new Map<number, { timer: ClockTimer; waiters: Set<Pending> }>();
  private subscribed?: Promise<void>;
  /** The subscription is up: callers need not await {@link ready}. */
  isReady = false;

  constructor(
    private readonly connections: Connections,
    private readonly channel: string,
    private readonly onError: (error: unknown, context: string) => void,
    private readonly clock: Clock,
    /** How a job's outcome is read from Redis, for the look-up after a reconnect. */
    private readonly stored: StoredOutcome = () => Promise.resolve(undefined),
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
    sub.on('ready', () => void this.resubscribed(sub));
  }

  /**
   * The subscriber connection is back after a close. Pub/sub keeps nothing: a result published
   * meanwhile is gone, and its callers would wait out their timeout. Once subscribed again (so
   * no later result can be missed), every awaited job is looked up in Redis and those that
   * finished meanwhile answer their callers.
   */
  private async resubscribed(sub: RedisClient): Promise<void> {
    try {
      // ioredis subscribes again by itself; this reply says the subscription is in place.
      await sub.subscribe(this.channel);
      await Promise.all(
        this.awaited().map(async (job) => {
          const outcome = await this.stored(job);
          if (outcome) this.settle(outcome);
        }),
      );
    } catch (err) {
      this.onError(err, 'looking up awaited jobs after the result channel reconnected');
    }
  }

  /** One entry per job awaited here. */
  private awaited(): AwaitedJob[] {
    const jobs: AwaitedJob[] = [];
    for (const forJob of this.waiters.values()) {
      const first = forJob instanceof Set ? forJob.values().next().value : forJob;
      if (first) jobs.push(first);
    }
    return jobs;
  }

  /** Starts waiting for `jobId`'s result, for at most `timeoutMs`. */
  expect(jobId: string, timeoutMs: number, entityType: string, entityId: string): Waiter {
    const bucket = Math.ceil((this.clock.now() + timeoutMs) / BUCKET_MS) * BUCKET_MS;
    const pending = new Pending(this, jobId, bucket, entityType, entityId, timeoutMs);
    const forJob = this.waiters.get(jobId);
    if (!forJob) this.waiters.set(jobId, pending);
    else if (forJob instanceof Set) forJob.add(pending);
    else this.waiters.set(jobId, new Set([forJob, pending]));
    let entry = this.buckets.get(bucket);
    if (!entry) {
      const timer = this.clock.setTimeout(() => this.expire(bucket), bucket - this.clock.now());
      entry = { timer, waiters: new Set() };
      this.buckets.set(bucket, entry);
    }
    entry.waiters.add(pending);
    return pending;
  }

  private expire(bucket: number): void {
    const entry = this.buckets.get(bucket);
    if (!entry) return;
    this.buckets.delete(bucket);
    for (const pending of entry.waiters) {
      if (!this.take(pending, false)) continue;
      const entity = `${pending.entityType} \`${pending.entityId}\``;
      pending.reject(new JobTimeoutError(pending.jobId, entity, pending.timeoutMs));
    }
  }

  /**
   * Removes a waiter; false when it was settled already. Its bucket's timer goes when empty.
   * Public for the waiters themselves ({@link Pending}), which settle through it.
   */
  take(pending: Pending, fromBucket = true): boolean {
    const forJob = this.waiters.get(pending.jobId);
    if (forJob === pending) this.waiters.delete(pending.jobId);
    else if (!(forJob instanceof Set) || !forJob.delete(pending)) return false;
    else if (forJob.size === 0) this.waiters.delete(pending.jobId);
    if (!fromBucket) return true;
    const entry = this.buckets.get(pending.bucket);
    if (entry) {
      entry.waiters.delete(pending);
      if (entry.waiters.size === 0) {
        this.clock.clearTimeout(entry.timer);
        this.buckets.delete(pending.bucket);
      }
    }
    return true;
  }

  /** Whether a caller on this pod awaits the job (its result is then settled in memory). */
  awaits(jobId: string): boolean {
    return this.waiters.has(jobId);
  }

  /**
   * Settles every caller here waiting for `outcome.jobId` (a result published by the pod that
   * ran it, or one run here: then through JSON, so callers see the same shape either way).
   */
  settle(outcome: JobOutcome, copy = false): void {
    const forJob = this.waiters.get(outcome.jobId);
    if (!forJob) return;
    let settled = outcome;
    if (copy) {
      try {
        settled = JSON.parse(JSON.stringify(outcome)) as JobOutcome;
      } catch {
        settled = {
          jobId: outcome.jobId,
          status: 'failed',
          error: { name: 'TypeError', message: 'The result does not serialize to JSON' },
        };
      }
    }
    if (forJob instanceof Set) {
      for (const pending of [...forJob]) if (this.take(pending)) pending.deliver(settled);
    } else if (this.take(forJob)) forJob.deliver(settled);
  }

  close(): void {
    for (const { timer } of this.buckets.values()) this.clock.clearTimeout(timer);
    this.buckets.clear();
    for (const forJob of this.waiters.values())
      for (const pending of forJob instanceof Set ? forJob : [forJob])
        pending.reject(
          new EngineStateError(`The engine stopped before job ${pending.jobId} finished`),
        );
    this.waiters.clear();
  }
}

/**
 * One caller waiting for one job's result: its promise and how it settles, in one object (a
 * burst of enqueueAndWait calls keeps thousands of these alive at once; closures per caller
 * would double what the young generation copies).
 */
export class Pending implements Waiter, AwaitedJob {
  readonly promise: Promise<unknown>;
  resolve!: (value: unknown) => void;
  reject!: (error: Error) => void;

  constructor(
    private readonly owner: ReplyWaiters,
    readonly jobId: string,
    /** Key of the deadline bucket holding this waiter. */
    readonly bucket: number,
    /** For the timeout's error. */
    readonly entityType: string,
    readonly entityId: string,
    readonly timeoutMs: number,
  ) {
    this.promise = new Promise<unknown>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  settle(outcome: JobOutcome): void {
    if (this.owner.take(this)) this.deliver(outcome);
  }

  fail(error: unknown): void {
    if (!this.owner.take(this)) return;
    this.reject(
      error instanceof Error
        ? error
        : new EnqueueFailedError(this.entityType, this.entityId, String(error)),
    );
  }

  deliver(outcome: JobOutcome): void {
    const result = settleWith(outcome);
    if ('error' in result) this.reject(result.error);
    else this.resolve(result.value);
  }
}
