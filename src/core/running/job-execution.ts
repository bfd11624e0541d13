import type { Job } from 'bullmq';
import { LeaseLostError, serializeError } from '../../errors';
import { errorMessage } from '../../errors/error-message';
import type { RedisClient } from '../../redis/connections';
import { EntityQueue, isAwaited, type NextJobData } from '../../redis/entity-queue';
import { jobKey } from '../../redis/keys';
import { isTransient } from '../../redis/redis-errors';
import {
  finish,
  type CompleteArgs,
  type FailArgs,
  type FinishReply,
} from '../../redis/scripts/finish';
import { giveBack } from '../../redis/scripts/give-back';
import type { LeaseGuard } from '../../redis/scripts/lease-guard';
import { recordAttempt } from '../../redis/scripts/record-attempt';
import { sleep, type Clock } from '../clock';
import type { EntityHandle } from '../entities/entity';
import type { EntityJobHandler, JobContext } from '../entities/job-context';
import type { CompletionReply } from '../replies/reply-sender';
import { backoffDelay, retryDelay } from './backoff';

export type JobStatus = 'completed' | 'failed';

/** A job that left active, as its runner reports it to the pod. */
export interface FinishedJob {
  job: Job;
  status: JobStatus;
  /** The handler's result, or the error it threw. */
  value: unknown;
  /** The pods awaiting its result. */
  waiters: readonly string[];
  /** The finishing script sent the result to them already. */
  published: boolean;
  /** From the start of its first attempt to the end of its last, on this pod's clock. */
  durationMs: number;
  /** From its enqueue to the start of its first run, by Redis's clock (NaN when unknown). */
  waitMs: number;
}

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
   * How the finishing script can publish an awaited job's result itself, or undefined to leave
   * it to the pod (it batches results when busy).
   */
  replyWithCompletion(job: Job, status: JobStatus, value: unknown): CompletionReply | undefined;
  /** A failed attempt will be retried after `delayMs`. */
  jobRetrying(
    seat: ExecutionSeat,
    job: Job,
    attempt: number,
    error: unknown,
    delayMs: number,
  ): void;
  /** Redis refused or was unreachable; the work is retried. */
  report(error: unknown, context: string): void;
}

/** What running a job needs from the entity's runner (the lease it runs under). */
export interface ExecutionSeat {
  readonly entity: EntityHandle;
  readonly token: string;
  readonly fencingToken: number;
  /** The lease as the runner's scripts check it. */
  readonly guard: LeaseGuard;
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
  /** A job left active: count it, and tell the pod. */
  recordFinished(finished: FinishedJob): void;
}

/**
 * Runs one job of an entity under its runner's lease: the handler, its in-place retries, then
 * the finish (completed or failed) that also takes the entity's next job, in one round trip.
 * Every write is fenced in Redis by the job's lock, which is the runner's lease token. A
 * finish that Redis refuses for a while (out of memory, a failover) is retried, not dropped:
 * the handler ran, so only its outcome is written again.
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

  /** When the running job's first attempt started, on this pod's clock. */
  private startedAt = 0;

  private async attempts(job: Job): Promise<Job | undefined> {
    const seat = this.seat;
    seat.beginJob(job.id!);
    this.startedAt = this.host.clock.now();
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
        const made = await this.persistently('recording a failed attempt', () =>
          recordAttempt(
            this.host.redis,
            seat.entity.keys,
            seat.guard,
            job.id!,
            errorMessage(err),
            attempt,
          ),
        );
        if (made === 'lost') {
          seat.markLost();
          return undefined;
        }
        job.attemptsMade = made;
        const delay = backoffDelay(config.backoff, attempt);
        this.host.jobRetrying(seat, job, attempt, err, delay);
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
   * finish-and-take-next just after the lease expired): the holder runs it next, in order.
   */
  private async giveBack(job: Job): Promise<undefined> {
    await giveBack(this.host.redis, this.seat.entity.keys, this.seat.token, job.id!);
    this.seat.activeJobs.delete(job.id!);
    return undefined;
  }

  private complete(job: Job, result: unknown): Promise<Job | undefined> {
    return this.finish(job, 'completed', result, (fetchNext, reply) => ({
      status: 'completed',
      jobId: job.id!,
      // As BullMQ stores it: JSON, and 'null' for what JSON can't represent at the top level.
      returnValue: JSON.stringify(result) ?? 'null',
      keep: this.seat.entity.keepCompleted,
      fetchNext,
      reply,
    }));
  }

  private fail(job: Job, error: unknown): Promise<Job | undefined> {
    const config = this.seat.entity.config;
    const serialized = serializeError(error);
    return this.finish(job, 'failed', error, (fetchNext, reply) => ({
      status: 'failed',
      jobId: job.id!,
      reason: errorMessage(error),
      error: JSON.stringify(serialized),
      stacktrace: JSON.stringify(serialized.stack ? [serialized.stack] : []),
      keep: this.seat.entity.keepFailed,
      pause: config.onFailure === 'pause',
      fetchNext,
      reply,
    }));
  }

  /** Writes a job's outcome (and takes the next job); `args` builds the script's arguments. */
  private async finish(
    job: Job,
    status: JobStatus,
    value: unknown,
    args: (fetchNext: boolean, reply?: CompletionReply) => CompleteArgs | FailArgs,
  ): Promise<Job | undefined> {
    const epoch = this.host.connectionEpoch;
    const seat = this.seat;
    const reply = isAwaited(job) ? this.host.replyWithCompletion(job, status, value) : undefined;
    let done: FinishReply;
    try {
      done = await this.persistently(`finishing job ${job.id}`, () =>
        finish(this.host.redis, seat.entity.keys, seat.guard, args(seat.wantsNext(), reply)),
      );
    } catch (err) {
      return this.refused(err, job, status, value, epoch);
    }
    seat.recordFinished(this.record(job, status, value, done.waiters, reply !== undefined));
    if (epoch !== this.host.connectionEpoch) return seat.reconcile();
    if (done.next === 'job') return this.toJob(EntityQueue.nextFromRaw(done.raw));
    if (done.next === 'fetch') return this.toJob(await this.queue.moveToActive(seat.token));
    return undefined;
  }

  private record(
    job: Job,
    status: JobStatus,
    value: unknown,
    waiters: readonly string[],
    published: boolean,
  ): FinishedJob {
    const durationMs = this.host.clock.now() - this.startedAt;
    const waitMs = (job.processedOn ?? NaN) - job.timestamp;
    return { job, status, value, waiters, published, durationMs, waitMs };
  }

  /**
   * Runs a Redis call until it goes through: a refusal or a lost connection is retried with a
   * growing pause, while the lease holds (the heartbeat renews it meanwhile); anything else is
   * thrown. Once the lease is lost the call is made one last time, and Redis's fence answers.
   */
  private async persistently<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let failures = 0; ; failures++) {
      try {
        return await call();
      } catch (err) {
        if (!isTransient(err) || this.seat.isLost()) throw err;
        if (failures === 0)
          this.host.report(err, `${what} of ${this.seat.entity.type} ${this.seat.entity.id}`);
        await sleep(this.host.clock, retryDelay(failures));
      }
    }
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
      const finished = this.seat.isLost() ? undefined : await this.finishedWaiters(job);
      if (finished) this.seat.recordFinished(this.record(job, status, value, finished, false));
      this.seat.activeJobs.delete(job.id!);
      return back;
    }
    // Another pod took the entity over and recovered this job: it is not ours to ack.
    this.seat.markLost(err);
    return undefined;
  }

  /**
   * When the job is no longer in Redis or has left active for good: the pods awaiting its
   * result (its finish went through, its reply was lost); else undefined.
   */
  private async finishedWaiters(job: Job): Promise<string[] | undefined> {
    const key = jobKey(this.seat.entity.keys, job.id!);
    const [finishedOn, waiters] = await this.host.redis.hmget(key, 'finishedOn', 'aqw');
    if (finishedOn !== null) return waiters ? waiters.split(',') : [];
    return (await this.host.redis.exists(key)) === 0 ? [] : undefined;
  }
}
