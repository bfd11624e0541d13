import { LeaseLostError, serializeError } from '../../errors';
import { errorMessage } from '../../errors/error-message';
import type { Clock, ClockTimer } from '../clock';
import type { JobContext, EntityJobHandler } from '../entities/job-context';
import { entityRef } from '../entities/entity-ref';
import type { EntityClaimedEvent, EventSink, JobFinishedEvent, ReleaseReason } from '../events';
import type { ResolvedEntityType } from '../options/resolved-options';
import type { ActiveEntity } from '../engine-types';
import { outcomeOf, storedOutcome } from '../replies/job-outcome';
import type { ReplyWaiters } from '../replies/reply-waiters';
import { backoffDelay } from '../running/backoff';
import type { RunnerStats } from '../running/runner-registry';
import type { Activity } from './activity';
import { bullJob, type JobRun, type StoredJob } from './memory-job';
import { MemoryQueue } from './memory-queue';

/** What an entity of the in-memory engine needs from the engine. */
export interface MemoryHost {
  readonly podId: string;
  readonly keyPrefix: string;
  readonly clock: Clock;
  readonly events: EventSink;
  readonly waiters: ReplyWaiters;
  readonly stats: RunnerStats;
  readonly activity: Activity;
  handlerFor(type: string): EntityJobHandler;
  /** Jobs may start: the engine is started and processing. */
  canRun(): boolean;
  /** The engine is stopping: a job due for a retry waits instead. */
  stopping(): boolean;
  recordRun(run: JobRun): void;
  report(error: unknown, context: string): void;
}

/** This engine's hold on an entity: what a lease is to the Redis engine. */
interface Holder {
  readonly fencingToken: number;
  readonly since: number;
  /** The lock token of the jobs it takes (`job.token`). */
  readonly token: string;
  readonly executions: Set<Execution>;
  jobsProcessed: number;
  lastActivity: number;
  idleTimer?: ClockTimer;
}

/** One job being run by a holder, its retries included. */
interface Execution {
  readonly job: StoredJob;
  /** Its holder lost the lease: what the handler returns or throws is dropped. */
  lost: boolean;
  /** Ends a retry's backoff now (lease lost, engine stopping). */
  wake?: () => void;
}

const STALLED = 'job stalled more than allowable limit';

/**
 * One entity of the in-memory engine: its queue, and the holder running its jobs with the Redis
 * engine's rules. Jobs run in queue order, `concurrency` at a time (1 by default); a failed
 * attempt is retried in place after its backoff, before any later job; after the last attempt
 * the job fails and the entity continues or pauses (`onFailure`). A holder is made when the
 * entity gets work, with a fencing token larger than any before, and lets go once idle for
 * `idleTimeoutSeconds`. A lease loss puts the running jobs back at the head of the queue and a
 * new holder, with a larger token, runs them again; the old handler calls run on, unheeded.
 */
export class MemoryEntity {
  readonly ref: string;
  readonly queue: MemoryQueue;
  private fence = 0;
  private holder?: Holder;
  private delayTimer?: { at: number; timer: ClockTimer };

  constructor(
    readonly config: ResolvedEntityType,
    readonly id: string,
    readonly queueName: string,
    private readonly host: MemoryHost,
  ) {
    this.ref = entityRef(config.type, id);
    this.queue = new MemoryQueue(config, host.clock);
  }

  get type(): string {
    return this.config.type;
  }

  get isHeld(): boolean {
    return this.holder !== undefined;
  }

  /** Starts what can run now, then sets the timers of what comes later (delays, idle release). */
  pump(): void {
    if (!this.host.canRun()) return;
    if (!this.holder && this.queue.hasWork()) this.claim();
    const holder = this.holder;
    if (!holder) return;
    while (holder.executions.size < this.config.concurrency) {
      const job = this.queue.take(this.host.clock.now());
      if (!job) break;
      this.execute(holder, job);
    }
    this.scheduleDelayed();
    this.scheduleIdle(holder);
  }

  /**
   * As when another pod takes the entity over: the holder's running jobs go back to the head of
   * the queue (counted as stalled: past `maxStalledCount` the next run fails them), `lease:lost`
   * is emitted, and a new holder with a larger fencing token runs them again. False when the
   * entity is not held.
   */
  loseLease(): boolean {
    const holder = this.holder;
    if (!holder) return false;
    this.letGo(holder);
    const orphans = [...holder.executions].sort((a, b) => a.job.seq - b.job.seq);
    for (const exec of orphans) {
      exec.lost = true;
      exec.job.stalledCount += 1;
      if (exec.job.stalledCount > this.config.maxStalledCount) exec.job.deferredFailure = STALLED;
    }
    this.queue.putBack(orphans.map((e) => e.job));
    for (const exec of orphans) exec.wake?.();
    this.host.stats.leasesLost += 1;
    this.host.events.emit('lease:lost', {
      ...this.event(holder),
      reason: 'lost',
      error: new LeaseLostError(
        'lease-moved',
        `renew the lease of ${this.type} \`${this.id}\` (a lease loss simulated in memory)`,
      ),
    });
    this.pump();
    return true;
  }

  /**
   * `skipNextJob`: the next waiting job fails without running, with `reason` as its error's
   * message (a caller awaiting it gets a JobFailedError); its id, or null when none waits.
   */
  skipNext(reason: string): string | null {
    const job = this.queue.takeNextWaiting();
    if (!job) return null;
    job.error = JSON.stringify({ name: 'Error', message: reason });
    job.failedReason = reason;
    this.queue.finish(job, 'failed', this.host.clock.now());
    const waiters = this.host.waiters;
    if (waiters.awaits(job.id))
      waiters.settle(storedOutcome(job.id, { kind: 'failed', error: job.error }), true);
    return job.id;
  }

  /** The engine is stopping: timers stop, and jobs waiting out a retry's backoff wait again. */
  interrupt(): void {
    this.clearDelayed();
    if (!this.holder) return;
    this.host.clock.clearTimeout(this.holder.idleTimer);
    for (const exec of this.holder.executions) exec.wake?.();
  }

  /** Once nothing runs: lets go of the entity (`entity:released`, reason `stopped`). */
  close(): void {
    if (this.holder) this.release(this.holder, 'stopped');
  }

  active(): ActiveEntity | undefined {
    const holder = this.holder;
    if (!holder) return undefined;
    return {
      entityType: this.type,
      entityId: this.id,
      queueName: this.queueName,
      workerName: this.config.workerName(this.id),
      fencingToken: holder.fencingToken,
      state: holder.executions.size > 0 ? 'running' : 'idle',
      since: holder.since,
      jobsProcessed: holder.jobsProcessed,
    };
  }

  // ── holding ─────────────────────────────────────────────────────────────────

  private claim(): void {
    this.fence += 1;
    const now = this.host.clock.now();
    this.holder = {
      fencingToken: this.fence,
      since: now,
      token: `memory.${this.fence}`,
      executions: new Set(),
      jobsProcessed: 0,
      lastActivity: now,
    };
    this.host.stats.claims += 1;
    this.host.events.emit('entity:claimed', this.event(this.holder));
  }

  private release(holder: Holder, reason: ReleaseReason): void {
    this.letGo(holder);
    if (reason === 'released') this.host.stats.releases += 1;
    this.host.events.emit('entity:released', { ...this.event(holder), reason });
  }

  private letGo(holder: Holder): void {
    this.host.clock.clearTimeout(holder.idleTimer);
    if (this.holder === holder) this.holder = undefined;
  }

  /** A holder with nothing to run lets go after `idleTimeoutSeconds` (delayed jobs keep it). */
  private scheduleIdle(holder: Holder): void {
    const clock = this.host.clock;
    if (holder.executions.size > 0 || this.queue.hasWork()) {
      clock.clearTimeout(holder.idleTimer);
      holder.idleTimer = undefined;
      return;
    }
    if (holder.idleTimer) return;
    const wait = holder.lastActivity + this.config.idleTimeoutMs - clock.now();
    holder.idleTimer = clock.setTimeout(() => {
      holder.idleTimer = undefined;
      if (this.holder !== holder || !this.host.canRun()) return;
      if (holder.executions.size === 0 && !this.queue.hasWork()) this.release(holder, 'released');
      else this.pump();
    }, wait);
  }

  /** A timer for the earliest delayed job (none while paused: resume looks again). */
  private scheduleDelayed(): void {
    const at = this.queue.paused ? undefined : this.queue.nextDueAt();
    if (this.delayTimer?.at === at) return;
    this.clearDelayed();
    if (at === undefined) return;
    const clock = this.host.clock;
    const timer = clock.setTimeout(() => {
      this.delayTimer = undefined;
      this.pump();
    }, at - clock.now());
    this.delayTimer = { at, timer };
  }

  private clearDelayed(): void {
    this.host.clock.clearTimeout(this.delayTimer?.timer);
    this.delayTimer = undefined;
  }

  // ── running ─────────────────────────────────────────────────────────────────

  private execute(holder: Holder, job: StoredJob): void {
    const exec: Execution = { job, lost: false };
    holder.executions.add(exec);
    this.host.activity.begin();
    this.run(holder, exec)
      .catch((err: unknown) => this.host.report(err, `running ${this.type} ${this.id}`))
      .finally(() => {
        holder.executions.delete(exec);
        holder.lastActivity = this.host.clock.now();
        this.pump();
        this.host.activity.end();
      });
  }

  private async run(holder: Holder, exec: Execution): Promise<void> {
    // The handler starts after the call that enqueued the job has returned, as after Redis's reply.
    await Promise.resolve();
    const { job } = exec;
    const { clock, podId } = this.host;
    const startedAt = clock.now();
    job.processedOn ??= startedAt;
    holder.lastActivity = startedAt;
    if (job.deferredFailure !== undefined)
      return this.fail(holder, job, new Error(job.deferredFailure), startedAt);
    const view = bullJob(job, this.config, this.queueName, this.host.keyPrefix, holder.token);
    for (let attempt = job.attemptsMade + 1; ; attempt++) {
      const context: JobContext = {
        entityType: this.type,
        entityId: this.id,
        fencingToken: holder.fencingToken,
        attempt,
        podId,
      };
      const run: JobRun = {
        entityType: this.type,
        entityId: this.id,
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
        result = await this.host.handlerFor(this.type)(view, context);
      } catch (err) {
        run.error = err;
        if (exec.lost) run.status = 'lost';
        else if (attempt >= this.config.attempts) run.status = 'failed';
        else run.status = 'retrying';
        if (run.status === 'failed') return this.fail(holder, job, err, startedAt);
        if (run.status === 'lost' || !(await this.retry(holder, exec, view, attempt, err))) return;
        continue;
      }
      run.result = result;
      run.status = exec.lost ? 'lost' : 'completed';
      if (!exec.lost) this.complete(holder, job, result, startedAt);
      return;
    }
  }

  /** Records a failed attempt and waits out its backoff; false when it must not run again here. */
  private async retry(
    holder: Holder,
    exec: Execution,
    view: { attemptsMade: number },
    attempt: number,
    error: unknown,
  ): Promise<boolean> {
    const { job } = exec;
    job.attemptsMade = attempt;
    view.attemptsMade = attempt;
    const delayMs = backoffDelay(this.config.backoff, attempt);
    this.host.events.emit('job:retrying', {
      ...this.event(holder),
      jobId: job.id,
      name: job.name,
      attempt,
      error,
      delayMs,
    });
    if (delayMs > 0 && !this.host.stopping()) await this.sleep(exec, delayMs);
    if (exec.lost) return false;
    if (this.host.stopping()) {
      this.queue.putBack([job]);
      return false;
    }
    return true;
  }

  /** Waits `ms` on the engine's clock, out of the work in flight; `exec.wake` ends it early. */
  private sleep(exec: Execution, ms: number): Promise<void> {
    const { clock, activity } = this.host;
    activity.end();
    return new Promise((resolve) => {
      const done = (): void => {
        clock.clearTimeout(timer);
        exec.wake = undefined;
        activity.begin();
        resolve();
      };
      const timer = clock.setTimeout(done, ms);
      exec.wake = done;
    });
  }

  private complete(holder: Holder, job: StoredJob, result: unknown, startedAt: number): void {
    let returnvalue: string;
    try {
      // As BullMQ stores it: JSON, and 'null' for what JSON can't represent at the top level.
      returnvalue = JSON.stringify(result) ?? 'null';
    } catch (err) {
      return this.fail(holder, job, err, startedAt);
    }
    job.returnvalue = returnvalue;
    const event = this.finish(holder, job, 'completed', result, startedAt);
    this.host.stats.jobsCompleted += 1;
    this.host.events.emit('job:completed', { ...event, result });
  }

  private fail(holder: Holder, job: StoredJob, error: unknown, startedAt: number): void {
    job.error = JSON.stringify(serializeError(error));
    job.failedReason = errorMessage(error);
    // As BullMQ counts it when a job fails: the attempt that just ended is one made.
    job.attemptsMade += 1;
    const event = this.finish(holder, job, 'failed', error, startedAt);
    if (this.config.onFailure === 'pause') this.queue.paused = true;
    this.host.stats.jobsFailed += 1;
    this.host.events.emit('job:failed', { ...event, error, attempts: job.attemptsMade });
  }

  /**
   * A job left active: it is kept (or not) as finished, its callers get its result (through
   * JSON, as from another pod); returns the fields of its event.
   */
  private finish(
    holder: Holder,
    job: StoredJob,
    status: 'completed' | 'failed',
    value: unknown,
    startedAt: number,
  ): JobFinishedEvent {
    const now = this.host.clock.now();
    this.queue.finish(job, status, now);
    holder.jobsProcessed += 1;
    const waiters = this.host.waiters;
    if (waiters.awaits(job.id)) waiters.settle(outcomeOf(job.id, status, value), true);
    return {
      ...this.event(holder),
      jobId: job.id,
      name: job.name,
      durationMs: now - startedAt,
      waitMs: (job.processedOn ?? NaN) - job.timestamp,
    };
  }

  private event(holder: Holder): EntityClaimedEvent {
    return { entityType: this.type, entityId: this.id, fencingToken: holder.fencingToken };
  }
}
