import { serializeError } from '../../errors';
import { errorMessage } from '../../errors/error-message';
import type { Clock } from '../clock';
import type { JobContext, EntityJobHandler } from '../entities/job-context';
import type { EntityClaimedEvent, EventSink, JobFinishedEvent } from '../events';
import type { ResolvedEntityType } from '../options/resolved-options';
import { outcomeOf } from '../replies/job-outcome';
import type { ReplyWaiters } from '../replies/reply-waiters';
import { backoffDelay } from '../running/backoff';
import type { RunnerStats } from '../running/runner-registry';
import type { Activity } from './activity';
import { bullJob, type JobRun, type StoredJob } from './memory-job';
import type { MemoryQueue } from './memory-queue';

/** What running a job needs from the in-memory engine. */
export interface ExecutionHost {
  readonly podId: string;
  readonly keyPrefix: string;
  readonly clock: Clock;
  readonly events: EventSink;
  readonly waiters: ReplyWaiters;
  readonly stats: RunnerStats;
  readonly activity: Activity;
  handlerFor(type: string): EntityJobHandler;
  /** The engine is stopping: a job due for a retry waits instead. */
  stopping(): boolean;
  recordRun(run: JobRun): void;
}

/** What running a job needs from its entity. */
export interface ExecutionEntity {
  readonly type: string;
  readonly id: string;
  readonly config: ResolvedEntityType;
  readonly queueName: string;
  readonly queue: MemoryQueue;
}

/** The holder a job runs under, as the run sees it: its tokens, and what the run counts. */
export interface ExecutionHolder {
  readonly fencingToken: number;
  /** The lock token of the jobs it takes (`job.token`). */
  readonly token: string;
  jobsProcessed: number;
  lastActivity: number;
}

/**
 * One job of the in-memory engine run by its entity's holder, with the Redis engine's rules: a
 * failed attempt is retried in place after its backoff; after the last attempt the job fails
 * (and the entity pauses with `onFailure: 'pause'`). Once its holder lost the lease, what the
 * handler returns or throws is dropped.
 */
export class MemoryExecution {
  /** Its holder lost the lease: what the handler returns or throws is dropped. */
  lost = false;
  /** Ends a retry's backoff now (lease lost, engine stopping). */
  wake?: () => void;

  constructor(
    readonly job: StoredJob,
    private readonly entity: ExecutionEntity,
    private readonly holder: ExecutionHolder,
    private readonly host: ExecutionHost,
  ) {}

  async run(): Promise<void> {
    // The handler starts after the call that enqueued the job has returned, as after Redis's reply.
    await Promise.resolve();
    const { job, entity, holder } = this;
    const { clock, podId } = this.host;
    const startedAt = clock.now();
    job.processedOn ??= startedAt;
    holder.lastActivity = startedAt;
    if (job.deferredFailure !== undefined)
      return this.fail(new Error(job.deferredFailure), startedAt);
    const view = bullJob(job, entity.config, entity.queueName, this.host.keyPrefix, holder.token);
    for (let attempt = job.attemptsMade + 1; ; attempt++) {
      const context: JobContext = {
        entityType: entity.type,
        entityId: entity.id,
        fencingToken: holder.fencingToken,
        attempt,
        podId,
      };
      const run: JobRun = {
        entityType: entity.type,
        entityId: entity.id,
        jobId: job.id,
        name: job.name,
        data: view.data,
        attempt,
        fencingToken: holder.fencingToken,
        status: 'running',
      };
      this.host.recordRun(run);
      let result: unknown;
      try {
        result = await this.host.handlerFor(entity.type)(view, context);
      } catch (err) {
        run.error = err;
        if (this.lost) run.status = 'lost';
        else if (attempt >= entity.config.attempts) run.status = 'failed';
        else run.status = 'retrying';
        if (run.status === 'failed') return this.fail(err, startedAt);
        if (run.status === 'lost' || !(await this.retry(view, attempt, err))) return;
        continue;
      }
      run.result = result;
      run.status = this.lost ? 'lost' : 'completed';
      if (!this.lost) this.complete(result, startedAt);
      return;
    }
  }

  /** Records a failed attempt and waits out its backoff; false when it must not run again here. */
  private async retry(
    view: { attemptsMade: number },
    attempt: number,
    error: unknown,
  ): Promise<boolean> {
    const { job } = this;
    job.attemptsMade = attempt;
    view.attemptsMade = attempt;
    const delayMs = backoffDelay(this.entity.config.backoff, attempt);
    this.host.events.emit('job:retrying', {
      ...this.event(),
      jobId: job.id,
      name: job.name,
      attempt,
      error,
      delayMs,
    });
    if (delayMs > 0 && !this.host.stopping()) await this.sleep(delayMs);
    if (this.lost) return false;
    if (this.host.stopping()) {
      this.entity.queue.putBack([job]);
      return false;
    }
    return true;
  }

  /** Waits `ms` on the engine's clock, out of the work in flight; `wake` ends it early. */
  private sleep(ms: number): Promise<void> {
    const { clock, activity } = this.host;
    activity.end();
    return new Promise((resolve) => {
      const done = (): void => {
        clock.clearTimeout(timer);
        this.wake = undefined;
        activity.begin();
        resolve();
      };
      const timer = clock.setTimeout(done, ms);
      this.wake = done;
    });
  }

  private complete(result: unknown, startedAt: number): void {
    let returnvalue: string;
    try {
      // As BullMQ stores it: JSON, and 'null' for what JSON can't represent at the top level.
      returnvalue = JSON.stringify(result) ?? 'null';
    } catch (err) {
      return this.fail(err, startedAt);
    }
    this.job.returnvalue = returnvalue;
    const event = this.finish('completed', result, startedAt);
    this.host.stats.jobsCompleted += 1;
    this.host.events.emit('job:completed', { ...event, result });
  }

  private fail(error: unknown, startedAt: number): void {
    const { job } = this;
    job.error = JSON.stringify(serializeError(error));
    job.failedReason = errorMessage(error);
    // As BullMQ counts it when a job fails: the attempt that just ended is one made.
    job.attemptsMade += 1;
    const event = this.finish('failed', error, startedAt);
    if (this.entity.config.onFailure === 'pause') this.entity.queue.paused = true;
    this.host.stats.jobsFailed += 1;
    this.host.events.emit('job:failed', { ...event, error, attempts: job.attemptsMade });
  }

  /**
   * The job left active: it is kept (or not) as finished, its callers get its result (through
   * JSON, as from another pod); returns the fields of its event.
   */
  private finish(
    status: 'completed' | 'failed',
    value: unknown,
    startedAt: number,
  ): JobFinishedEvent {
    const { job } = this;
    const now = this.host.clock.now();
    this.entity.queue.finish(job, status, now);
    this.holder.jobsProcessed += 1;
    const waiters = this.host.waiters;
    if (waiters.awaits(job.id)) waiters.settle(outcomeOf(job.id, status, value), true);
    return {
      ...this.event(),
      jobId: job.id,
      name: job.name,
      durationMs: now - startedAt,
      waitMs: (job.processedOn ?? NaN) - job.timestamp,
    };
  }

  private event(): EntityClaimedEvent {
    const { entity, holder } = this;
    return { entityType: entity.type, entityId: entity.id, fencingToken: holder.fencingToken };
  }
}
