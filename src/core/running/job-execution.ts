import type { Job } from 'bullmq';
import type { LeaseLostError } from '../../errors';
import { errorMessage } from '../../errors/error-message';
import type { RedisClient } from '../../redis/connections';
import { isTransient } from '../../redis/redis-errors';
import type { LeaseGuard } from '../../redis/scripts/lease-guard';
import { recordAttempt } from '../../redis/scripts/record-attempt';
import { sleep, type Clock } from '../clock';
import type { EntityHandle } from '../entities/entity';
import type { EntityJobHandler, JobContext } from '../entities/job-context';
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

/** How running one job ended. */
export type JobRun =
  /** The handler returned (completed) or threw after its last attempt (failed). */
  | {
      kind: 'ran';
      status: JobStatus;
      value: unknown;
      durationMs: number;
      /** When its first attempt started, on the pod's clock. */
      startedAt: number;
    }
  /** The lease went while it ran: another pod runs it; nothing of it is written here. */
  | { kind: 'lost' }
  /** The lease could not be confirmed before it started: it goes back, unrun. */
  | { kind: 'not-run' };

/** What running a job needs from the pod. */
export interface ExecutionHost {
  readonly podId: string;
  readonly redis: RedisClient;
  readonly clock: Clock;
  handlerFor(type: string): EntityJobHandler;
  /** A job starts / ends running on this pod (the pod counts them). */
  jobStarted(): void;
  jobEnded(): void;
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
  readonly fencingToken: number;
  /** The lease as the runner's scripts check it. */
  readonly guard: LeaseGuard;
  /** True once the runner knows its lease is gone. */
  isLost(): boolean;
  markLost(error?: LeaseLostError): void;
  /** True while the lease is surely valid with a margin (no renewal needed to start a job). */
  leaseSurelyValid(): boolean;
  /** Starts a job only while the lease is surely valid; renews it first when in doubt. */
  leaseStillValid(): Promise<boolean>;
}

/**
 * Runs one job of an entity under its runner's lease: the handler and its in-place retries (each
 * failed attempt recorded in Redis, fenced by the job's lock, before the next). Writing the
 * outcome is the runner's: it acknowledges a batch of jobs in one call.
 */
export class JobExecution {
  constructor(
    private readonly seat: ExecutionSeat,
    private readonly host: ExecutionHost,
  ) {}

  async run(job: Job): Promise<JobRun> {
    this.host.jobStarted();
    try {
      return await this.attempts(job);
    } finally {
      this.host.jobEnded();
    }
  }

  private async attempts(job: Job): Promise<JobRun> {
    const { seat, host } = this;
    const startedAt = host.clock.now();
    const ran = (status: JobStatus, value: unknown): JobRun => ({
      kind: 'ran',
      status,
      value,
      durationMs: host.clock.now() - startedAt,
      startedAt,
    });
    if (job.deferredFailure) return ran('failed', new Error(job.deferredFailure));
    // Most jobs start well inside the lease: no promise for the check then (the hot path).
    if (!seat.leaseSurelyValid() && !(await seat.leaseStillValid())) return { kind: 'not-run' };
    const config = seat.entity.config;
    let attempt = job.attemptsMade + 1;
    for (;;) {
      const context: JobContext = {
        entityType: seat.entity.type,
        entityId: seat.entity.id,
        fencingToken: seat.fencingToken,
        attempt,
        podId: host.podId,
      };
      try {
        return ran('completed', await host.handlerFor(seat.entity.type)(job, context));
      } catch (err) {
        if (seat.isLost()) return { kind: 'lost' };
        if (attempt >= config.attempts) return ran('failed', err);
        const made = await this.persistently('recording a failed attempt', () =>
          recordAttempt(
            host.redis,
            seat.entity.keys,
            seat.guard,
            job.id!,
            errorMessage(err),
            attempt,
          ),
        );
        if (made === 'lost') {
          seat.markLost();
          return { kind: 'lost' };
        }
        job.attemptsMade = made;
        const delay = backoffDelay(config.backoff, attempt);
        host.jobRetrying(seat, job, attempt, err, delay);
        if (delay > 0) await sleep(host.clock, delay);
        if (!(await seat.leaseStillValid())) return { kind: 'not-run' };
        attempt += 1;
      }
    }
  }

  /**
   * Runs a Redis call until it goes through: a refusal or a lost connection is retried with a
   * growing pause while the lease holds; anything else is thrown.
   */
  private async persistently<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let failures = 0; ; failures++) {
      try {
        return await call();
      } catch (err) {
        if (!isTransient(err) || this.seat.isLost()) throw err;
        const { entity } = this.seat;
        if (failures === 0) this.host.report(err, `${what} of ${entity.type} ${entity.id}`);
        await sleep(this.host.clock, retryDelay(failures));
      }
    }
  }
}
