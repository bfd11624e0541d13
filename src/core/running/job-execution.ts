import type { Job } from 'bullmq';
import { LeaseLostError } from '../../errors';
import type { RedisClient } from '../../redis/connections';
import { EntityQueue, type NextJobData } from '../../redis/entity-queue';
import { jobKey } from '../../redis/keys';
import { complete } from '../../redis/scripts/complete';
import { giveBack } from '../../redis/scripts/give-back';
import { recordAttempt } from '../../redis/scripts/record-attempt';
import { sleep, type Clock } from '../clock';
import type { EntityHandle } from '../entities/entity';
import type { EntityJobHandler, JobContext } from '../entities/job-context';
import type { CompletionReply } from '../replies/reply-sender';
import { errorMessage } from '../../errors/error-message';
import { backoffDelay } from './backoff';

export type JobStatus = 'completed' | 'failed';

/** What running a job needs from the pod. */
export interface ExecutionHost {
  readonly podId: string;
  readonly redis: RedisClient;
  readonly clock: Clock;
  readonly leaseTtlMs: number;
  /** Changes whenever the command connection closed (see `Connections.commandEpoch`). */
  readonly connectionEpoch: number;
  handlerFor(type: string): EntityJobHandler;
  /** A job starts / ends running on this pod (the pod counts them). */
  jobStarted(): void;
  jobEnded(): void;
  /**
   * How to publish this job's result together with its complete, or undefined to publish it
   * after the complete's reply (nobody awaits it remotely, or the pod is busy).
   */
  replyWithCompletion(job: Job, value: unknown): CompletionReply | undefined;
}

/** What running a job needs from the entity's runner (the lease it runs under). */
export interface ExecutionSeat {
  readonly entity: EntityHandle;
  readonly token: string;
  readonly fencingToken: number;
  /** Ids of the jobs being run, whose locks the heartbeat renews with the lease. */
  readonly activeJobs: Set<string>;
  /** A job starts: it is active, and the entity is not idle. */
  beginJob(jobId: string): void;
  /** True once the runner knows its lease is gone. */
  isLost(): boolean;
  /** Whether a finished job's call should take the entity's next job too. */
  wantsNext(): boolean;
  markLost(error?: LeaseLostError): void;
  /** Starts a job only while the lease is surely valid; renews it first when in doubt. */
  leaseStillValid(): Promise<boolean>;
  /** Puts back jobs moved to active by a call whose reply crossed a reconnect. */
  reconcile(): Promise<undefined>;
  /** A job left active: count it, and tell the pod. `replied`: the result went with it. */
  recordFinished(job: Job, status: JobStatus, value: unknown, replied: boolean): void;
}

/**
 * Runs one job of an entity under its runner's lease: the handler, its in-place retries, then
 * the complete (or fail) that also takes the entity's next job, in one round trip. Every write
 * is fenced in Redis by the job's lock, which is the runner's lease token.
 */
export class JobExecution {
  constructor(
    private readonly seat: ExecutionSeat,
    private readonly host: ExecutionHost,
  ) {}

  private get queue(): EntityQueue {
    return this.seat.entity.queue;
  }

  /** Runs `job` with its retries; resolves with the next job taken in the same call, if any. */
  async run(job: Job): Promise<Job | undefined> {
    this.host.jobStarted();
    try {
      return await this.attempts(job);
    } finally {
      this.host.jobEnded();
    }
  }

  /** A job of this entity from BullMQ's fetch reply, locked with the runner's token. */
  toJob(raw: NextJobData): Job | undefined {
    return this.queue.toJob(raw, this.seat.token);
  }

  private async attempts(job: Job): Promise<Job | undefined> {
    const seat = this.seat;
    seat.beginJob(job.id!);
    const config = seat.entity.config;
    if (job.deferredFailure) return this.fail(job, new Error(job.deferredFailure));
    if (!(await seat.leaseStillValid())) return this.giveBack(job);

    let attempt = job.attemptsMade + 1;
    for (;;) {
      const context: JobContext = {
        entityType: seat.entity.type,
        entityId: seat.entity.id,
        fencingToken: seat.fencingToken,
        attempt,
        podId: this.host.podId,
      };
      let result: unknown;
      try {
        result = await this.host.handlerFor(seat.entity.type)(job, context);
      } catch (err) {
        if (seat.isLost()) return undefined;
        if (attempt >= config.attempts) return this.fail(job, err);
        const made = await recordAttempt(
          this.host.redis,
          seat.entity.keys,
          job.id!,
          seat.token,
          errorMessage(err),
        );
        if (made === 'lost') {
          seat.markLost();
          return undefined;
        }
        job.attemptsMade = made;
        const delay = backoffDelay(config.backoff, attempt);
        if (delay > 0) await sleep(this.host.clock, delay);
        if (!(await seat.leaseStillValid())) return this.giveBack(job);
        attempt += 1;
        continue;
      }
      return this.complete(job, result);
    }
  }

  /**
   * Returns a job taken with a lease that turned out to be gone (e.g. handed back by
   * complete-and-fetch-next just after the lease expired): the holder runs it next, in order.
   */
  private async giveBack(job: Job): Promise<undefined> {
    await giveBack(this.host.redis, this.seat.entity.keys, this.seat.token, job.id!);
    this.seat.activeJobs.delete(job.id!);
    return undefined;
  }

  private async complete(job: Job, result: unknown): Promise<Job | undefined> {
    const epoch = this.host.connectionEpoch;
    const { entity, token } = this.seat;
    try {
      const reply = this.host.replyWithCompletion(job, result);
      const outcome = await complete(this.host.redis, entity.keys, {
        jobId: job.id!,
        now: this.host.clock.now(),
        // As BullMQ stores it: JSON, and 'null' for what JSON can't represent at the top level.
        returnValue: reply?.returnValue ?? JSON.stringify(result) ?? 'null',
        token,
        keep: entity.keepCompleted,
        fetchNext: this.seat.wantsNext(),
        lockMs: this.host.leaseTtlMs,
        reply,
      });
      const next =
        outcome.next === 'fetch'
          ? await this.queue.moveToActive(token)
          : outcome.next === 'job'
            ? EntityQueue.nextFromRaw(outcome.raw)
            : undefined;
      return await this.finished(job, 'completed', result, next, epoch, reply !== undefined);
    } catch (err) {
      return this.refused(err, job, 'completed', result, epoch);
    }
  }

  private async fail(job: Job, error: unknown): Promise<Job | undefined> {
    const pause = this.pausesOnFailure();
    const epoch = this.host.connectionEpoch;
    try {
      const next = await this.queue.moveToFailed(
        job,
        errorMessage(error),
        this.seat.entity.config.removeOnFail,
        this.seat.token,
        this.seat.wantsNext() && !pause,
      );
      return await this.finished(job, 'failed', error, next, epoch);
    } catch (err) {
      return this.refused(err, job, 'failed', error, epoch);
    }
  }

  private pausesOnFailure(): boolean {
    return this.seat.entity.config.onFailure === 'pause';
  }

  /** Counts a finished job; pauses the entity after a final failure when so configured. */
  private async record(
    job: Job,
    status: JobStatus,
    value: unknown,
    replied: boolean,
  ): Promise<void> {
    this.seat.recordFinished(job, status, value, replied);
    if (status === 'failed' && this.pausesOnFailure()) await this.queue.pause(true);
  }

  /** The job left active; `next` is the job taken in the same call, if any. */
  private async finished(
    job: Job,
    status: JobStatus,
    value: unknown,
    next: NextJobData,
    epoch: number,
    replied = false,
  ): Promise<Job | undefined> {
    await this.record(job, status, value, replied);
    if (epoch !== this.host.connectionEpoch) return this.seat.reconcile();
    if (status === 'failed' && this.pausesOnFailure()) return undefined;
    return this.toJob(next);
  }

  /** Redis refused to finish the job: the lease is gone, or a resent call already finished it. */
  private async refused(
    err: unknown,
    job: Job,
    status: JobStatus,
    value: unknown,
    epoch: number,
  ): Promise<undefined> {
    if (!(err instanceof LeaseLostError)) throw err;
    if (epoch !== this.host.connectionEpoch) {
      // The reply crossed a reconnect: if the lease is still ours, nobody else can have moved
      // the job, so when it is finished the first copy of this call did it and the resent copy
      // found it gone.
      const back = await this.seat.reconcile();
      if (!this.seat.isLost() && (await this.isFinished(job)))
        await this.record(job, status, value, false);
      this.seat.activeJobs.delete(job.id!);
      return back;
    }
    // Another pod took the entity over and recovered this job: it is not ours to ack.
    this.seat.markLost(err);
    return undefined;
  }

  /** True when the job is no longer in Redis or has left active for good. */
  private async isFinished(job: Job): Promise<boolean> {
    const key = jobKey(this.seat.entity.keys, job.id!);
    const redis = this.host.redis;
    const [exists, finishedOn] = await Promise.all([
      redis.exists(key),
      redis.hget(key, 'finishedOn'),
    ]);
    return exists === 0 || finishedOn !== null;
  }
}
