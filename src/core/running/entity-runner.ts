import type { Job } from 'bullmq';
import { serializeError, type LeaseLostError } from '../../errors';
import { errorMessage } from '../../errors/error-message';
import { jobExtras } from '../../redis/entity-queue';
import { jobKey } from '../../redis/keys';
import { isTransient } from '../../redis/redis-errors';
import { markIdle, type IdleReply } from '../../redis/scripts/idle';
import type { LeaseGuard } from '../../redis/scripts/lease-guard';
import { reclaimOwn } from '../../redis/scripts/reclaim-own';
import { release } from '../../redis/scripts/release';
import type { EntityStep, FinishedOutcome, StepResult } from '../../redis/scripts/step';
import type { ClockTimer } from '../clock';
import type { EntityHandle } from '../entities/entity';
import type { ReleaseReason } from '../events';
import { retryDelay } from './backoff';
import {
  JobExecution,
  type ExecutionHost,
  type ExecutionSeat,
  type FinishedJob,
  type JobRun,
  type JobStatus,
} from './job-execution';

export type RunnerState = 'running' | 'idle' | 'releasing' | 'closed' | 'lost';

/** What a runner needs from the pod that owns it. */
export interface RunnerHost extends ExecutionHost {
  readonly leaseTtlMs: number;
  /** Changes whenever the command connection closed (see `Connections.commandEpoch`). */
  readonly connectionEpoch: number;
  /** How often an idle holder looks again at a queue a BullMQ tool may put work in, ms. */
  readonly watchMs: number;
  /** Renews this runner's lease now; false when it was lost. */
  renewLease(runner: EntityRunner): Promise<boolean>;
  /** Sends a step with the turn's others (see StepBatcher). */
  step(step: EntityStep): Promise<StepResult | Error>;
  /** A job's result as the step script can publish it to the pods awaiting it. */
  completionMessage(jobId: string, status: JobStatus, value: unknown): string;
  /** A job left active. */
  jobFinished(runner: EntityRunner, finished: FinishedJob): void;
  runnerClosed(runner: EntityRunner, reason: ReleaseReason, error?: unknown): void;
}

/** A job that ran, waiting for its outcome to be stored. */
interface Ran {
  job: Job;
  status: JobStatus;
  value: unknown;
  durationMs: number;
  /** From its enqueue to the start of its first attempt (see {@link EntityRunner.ran}). */
  waitMs: number;
  outcome: FinishedOutcome;
}

/**
 * Runs one entity's jobs while this pod holds the entity's lease: takes up to `batchSize` of
 * them at once, runs them one after another in order, and acknowledges them together in one
 * step (which also takes the next ones; with a full batch, the next batch is taken while this
 * one runs). Idles when the queue is empty, and releases the lease after `idleTimeoutSeconds`.
 *
 * The lease token is also the lock of every job the runner takes, so the step script refuses to
 * finish a job once another pod has taken the entity over: the fence is checked inside Redis.
 * Redis refusing or unreachable for a while never ends a runner: its steps are retried while
 * its lease holds. A pod that dies mid-batch has the jobs whose completion was not stored run
 * again by the next holder, in order: at most a batch.
 */
export class EntityRunner implements ExecutionSeat {
  state: RunnerState = 'running';
  /** Local time until which the lease is surely valid (send time of the last renewal + TTL). */
  leaseValidUntil: number;
  /** Jobs taken and not yet acknowledged or given back: their locks are renewed with the lease. */
  readonly activeJobs = new Set<string>();
  /** When each job taken was taken, on this pod's clock (for its wait: see `ran`). */
  private readonly takenAt = new WeakMap<Job, number>();
  jobsProcessed = 0;
  /** Score this pod last wrote to the entity's sweep-index entry (removed on a clean release). */
  indexScore = 0;
  readonly since: number;
  /** Why Redis refused a write, when the lease was lost that way. */
  lostError?: LeaseLostError;
  readonly guard: LeaseGuard;

  private readonly execution: JobExecution;
  private signalled = false;
  private wakeUp?: () => void;
  private stopRequested = false;
  /**
   * Asked to hand the entity over: unlike a stop, the batch under way (and one taken ahead)
   * runs to its end; no job is given back, none is taken after it.
   */
  private handingOver = false;
  /** Why the runner was asked to stop: shutdown, or a hand-over to another pod. */
  private stopReason: ReleaseReason = 'stopped';
  private lastActivity: number;
  private released?: Promise<void>;
  private markReleased?: () => void;
  private done?: Promise<void>;
  /** With `concurrency` > 1: the lanes running now, each taking and acknowledging its own jobs. */
  private readonly lanes = new Set<Promise<void>>();

  constructor(
    readonly entity: EntityHandle,
    /** This runner's lease slot key (slot 0 unless maxWorkersPerEntity > 1). */
    readonly leaseKey: string,
    private readonly slot: number,
    readonly token: string,
    readonly fencingToken: number,
    leaseSentAt: number,
    private readonly host: RunnerHost,
  ) {
    this.leaseValidUntil = leaseSentAt + host.leaseTtlMs;
    this.guard = {
      leaseKey,
      token,
      fence: String(fencingToken),
      podId: host.podId,
      ttlMs: host.leaseTtlMs,
    };
    this.since = host.clock.now();
    this.lastActivity = this.since;
    this.execution = new JobExecution(this, host);
  }

  /** True while a job enqueued from this pod can be handed over in memory. */
  acceptsLocalWork(): boolean {
    return !this.draining && (this.state === 'running' || this.state === 'idle');
  }

  /** Settles when a release under way has finished (at once when none is). */
  async settled(): Promise<void> {
    await this.released;
  }

  /** New work arrived: take it now instead of waiting for the idle timeout. */
  notify(): void {
    this.signalled = true;
    this.wakeUp?.();
    // With concurrency > 1, a lane that found the queue empty has ended: add one back.
    const concurrency = this.entity.config.concurrency;
    if (this.state === 'running' && this.lanes.size > 0 && this.lanes.size < concurrency)
      this.startLane([]);
  }

  start(): void {
    this.done = this.loop();
  }

  /** Finishes the running job (and its retries), then stops taking new ones. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    this.wakeUp?.();
    await this.done;
  }

  /**
   * Hands the entity over to another pod (rebalancing): finishes the job it runs (and its
   * retries), takes no other, then gives the lease back (reason `rebalanced`). False when the
   * runner is already stopping, releasing or gone.
   */
  handOver(): boolean {
    if (this.draining || !this.acceptsLocalWork()) return false;
    this.stopReason = 'rebalanced';
    this.handingOver = true;
    this.wakeUp?.();
    return true;
  }

  /** True once asked to stop or hand over: it takes no more jobs. */
  get draining(): boolean {
    return this.stopRequested || this.handingOver;
  }

  markLost(error?: LeaseLostError): void {
    if (this.state === 'closed' || this.state === 'lost') return;
    this.state = 'lost';
    this.lostError ??= error;
    this.wakeUp?.();
  }

  isLost(): boolean {
    return this.state === 'lost';
  }

  /** Starts a job only while the lease is surely valid; renews it first when in doubt. */
  async leaseStillValid(): Promise<boolean> {
    const margin = this.host.leaseTtlMs / 3;
    const clock = this.host.clock;
    // A renewal whose reply arrives late (the process was paused while it was in flight) proves
    // nothing about now: renew again until one comes back while it still holds.
    for (let tries = 0; tries < 3; tries++) {
      if (this.state === 'lost') return false;
      if (clock.now() + margin < this.leaseValidUntil) return true;
      const renewed = await this.resilient('renewing the lease', () => this.host.renewLease(this));
      if (renewed === undefined) return false; // stopping while Redis was unreachable
      if (!renewed) {
        this.markLost();
        return false;
      }
    }
    return this.state !== 'lost' && clock.now() + margin < this.leaseValidUntil;
  }

  // ── the run loop ────────────────────────────────────────────────────────────

  private async loop(): Promise<void> {
    let reason: ReleaseReason = 'stopped';
    let error: unknown;
    try {
      let batch = await this.take();
      for (;;) {
        if (this.state === 'lost') {
          reason = 'lost';
          break;
        }
        if (this.stopRequested) {
          if (batch.length > 0) await this.acknowledge([], batch, false, 0);
          break;
        }
        if (batch.length > 0) {
          batch =
            this.entity.config.concurrency > 1
              ? await this.runLanes(batch)
              : await this.runBatch(batch, this.batchSize);
          continue;
        }
        if (this.handingOver) break; // at a batch boundary: nothing taken, nothing to give back
        const outcome = await this.idle();
        if (outcome !== 'work') {
          reason = outcome;
          break;
        }
        batch = await this.take();
      }
    } catch (err) {
      reason = this.state === 'lost' ? 'lost' : 'error';
      error = err;
      this.stopRequested = true;
      await Promise.allSettled([...this.lanes]);
    }
    this.activeJobs.clear();
    this.markReleased?.();
    if (reason === 'stopped') reason = this.stopReason;
    this.host.runnerClosed(this, reason, error);
  }

  private get batchSize(): number {
    return this.entity.config.batchSize;
  }

  /** Takes the entity's next jobs (up to `count`: a batch, or one per lane). */
  private async take(
    count = this.entity.config.concurrency > 1 ? this.entity.config.concurrency : this.batchSize,
  ): Promise<Job[]> {
    this.signalled = false;
    // After an idle wait (or a pause) the lease may be gone: don't take a job we can't run.
    if (!(await this.leaseStillValid())) return [];
    return this.acknowledge([], [], false, count);
  }

  /**
   * With `concurrency` > 1 (no order, no exclusion): one lane per job taken, each then taking
   * and acknowledging one job at a time until the queue is empty; new work adds lanes back.
   */
  private async runLanes(jobs: Job[]): Promise<Job[]> {
    for (const job of jobs) this.startLane([job]);
    while (this.lanes.size > 0) await Promise.all([...this.lanes]);
    return [];
  }

  private startLane(first: Job[]): void {
    const lane: Promise<void> = (async () => {
      let jobs = first.length > 0 ? first : await this.take(1);
      while (jobs.length > 0 && !this.stopRequested && this.state === 'running')
        jobs = await this.runBatch(jobs, 1);
      if (jobs.length > 0) await this.acknowledge([], jobs, false, 0);
    })().finally(() => this.lanes.delete(lane));
    this.lanes.add(lane);
  }

  /**
   * Runs a batch in order and acknowledges it; resolves with the next batch. A full batch has
   * the next one taken while it runs. A final failure with `onFailure: 'pause'` stops the batch
   * there: the entity pauses and the jobs not run go back, first in line.
   */
  private async runBatch(jobs: Job[], size: number): Promise<Job[]> {
    const epoch = this.host.connectionEpoch;
    const prefetch =
      size > 1 && jobs.length >= size && !this.draining ? this.submit({ take: size }) : undefined;
    const ran: Ran[] = [];
    let unrun: Job[] = [];
    let pause = false;
    for (let i = 0; i < jobs.length; i++) {
      if (this.state === 'lost') break;
      if (this.stopRequested) {
        unrun = jobs.slice(i);
        break;
      }
      const run = await this.execution.run(jobs[i]);
      if (run.kind === 'lost') break;
      if (run.kind === 'not-run') {
        unrun = jobs.slice(i);
        break;
      }
      ran.push(this.ran(jobs[i], run));
      if (run.status === 'failed' && this.entity.config.onFailure === 'pause') {
        pause = true;
        unrun = jobs.slice(i + 1);
        break;
      }
    }
    if (this.state === 'lost') return [];
    const stop = pause || this.stopRequested;
    if (prefetch && (stop || this.handingOver)) {
      // Paused, stopping or handing over: the batch taken ahead goes back unrun, after the jobs
      // of this batch not run, in one step. Two give-backs would each put their jobs first in
      // line, so the batch taken ahead, given back second, would run before the earlier jobs.
      const prefetched = await this.collect(prefetch);
      if (this.isLost()) return [];
      return this.acknowledge(ran, [...unrun, ...prefetched], pause, 0);
    }
    const next = prefetch && this.collect(prefetch);
    const acked = this.acknowledge(
      ran,
      unrun,
      pause,
      prefetch || stop || this.handingOver ? 0 : size,
      next,
    );
    if (!next) return acked;
    const [ackedNext, prefetched] = await Promise.all([acked, next]);
    if (this.isLost()) return [];
    if (epoch !== this.host.connectionEpoch) return this.keepTakenAhead(prefetched);
    return [...ackedNext, ...prefetched];
  }

  /**
   * The connection closed while a batch was taken ahead: a take whose reply was lost (its
   * result is dropped, see `submit`) may have moved jobs to active, twice if resent. The jobs
   * in hand run next; every other active job locked with this token goes back to the head of
   * wait, in order, before the runner takes again.
   */
  private async keepTakenAhead(prefetched: Job[]): Promise<Job[]> {
    const running = prefetched.map((job) => job.id!);
    const back = await this.resilient('putting back jobs', () =>
      reclaimOwn(this.host.redis, this.entity.keys, this.guard, running),
    );
    if (back === 'lost') this.markLost();
    return back === undefined || back === 'lost' ? [] : prefetched;
  }

  /** The outcome of a job that ran, as the step stores it. */
  private ran(job: Job, run: Extract<JobRun, { kind: 'ran' }>): Ran {
    const { status, value, durationMs, startedAt } = run;
    // Redis stamped processedOn when the step took the job; a job of a batch starts later, by
    // this pod's clock: both are durations, so neither clock's offset matters.
    const takenAt = this.takenAt.get(job) ?? startedAt;
    const waitMs = (job.processedOn ?? NaN) - job.timestamp + (startedAt - takenAt);
    const outcome: FinishedOutcome =
      status === 'completed'
        ? { jobId: job.id!, status, value: returnValue(value), attempts: job.attemptsMade + 1 }
        : failedOutcome(job, value);
    return { job, status, value, durationMs, waitMs, outcome };
  }

  /**
   * Stores the outcomes of jobs that ran, gives back those that did not, and takes up to `take`
   * next jobs, in one step; tells the pod about each finished job. Resolves with the jobs taken.
   * `takenAhead`: the batch taken while these jobs ran, which the runner runs next.
   */
  private async acknowledge(
    ran: Ran[],
    unrun: Job[],
    pause: boolean,
    take: number,
    takenAhead?: Promise<Job[]>,
  ): Promise<Job[]> {
    // A lone awaited job: its result rides with the step (one round trip sooner for the caller).
    if (ran.length === 1 && jobExtras(ran[0].job).awaited) {
      const { job, status, value } = ran[0];
      ran[0].outcome.message = this.host.completionMessage(job.id!, status, value);
    }
    const epoch = this.host.connectionEpoch;
    const result = await this.resilient('acknowledging jobs', () =>
      this.host.step(
        this.stepOf(
          ran.map((r) => r.outcome),
          unrun,
          pause,
          take,
        ),
      ),
    );
    if (result === undefined) return []; // stopping while Redis was unreachable
    if (epoch !== this.host.connectionEpoch) return this.reconcileAfter(ran, takenAhead);
    if (result instanceof Error) {
      this.markLost(result as LeaseLostError);
      return [];
    }
    for (const job of unrun) this.activeJobs.delete(job.id!);
    ran.forEach((r, i) => this.finished(r, result.waiters[i], r.outcome.message !== undefined));
    return this.jobsOf(result);
  }

  /** The jobs a take-only step (sent ahead) brought back. */
  private async collect(pending: Promise<StepResult | Error | undefined>): Promise<Job[]> {
    const result = await pending;
    if (result === undefined) return [];
    if (result instanceof Error) {
      this.markLost(result as LeaseLostError);
      return [];
    }
    return this.jobsOf(result);
  }

  private submit(part: { take: number }): Promise<StepResult | Error | undefined> {
    const epoch = this.host.connectionEpoch;
    return this.resilient('taking jobs', () =>
      this.host.step(this.stepOf([], [], false, part.take)),
    ).then((result) => (epoch !== this.host.connectionEpoch ? undefined : result));
  }

  private stepOf(
    finished: FinishedOutcome[],
    unrun: Job[],
    pause: boolean,
    take: number,
  ): EntityStep {
    const { entity } = this;
    return {
      keys: entity.keys,
      slot: this.slot,
      guard: this.guard,
      keepCompleted: entity.keepCompleted,
      keepFailed: entity.keepFailed,
      eventsMaxLen: entity.eventsMaxLen,
      finished,
      giveBack: unrun.map((j) => j.id!),
      pause,
      take,
    };
  }

  /** The jobs a step took (or, for a job BullMQ must fetch, the one BullMQ's fetch gives). */
  private async jobsOf(result: StepResult): Promise<Job[]> {
    const jobs = result.taken.map((t) => this.entity.toJob(t, this.token));
    if (result.fetch && jobs.length === 0) {
      const job = this.entity.queue.toJob(
        await this.entity.queue.moveToActive(this.token),
        this.token,
      );
      if (job) jobs.push(job);
    }
    const takenAt = this.host.clock.now();
    for (const job of jobs) {
      this.activeJobs.add(job.id!);
      this.takenAt.set(job, takenAt);
    }
    return jobs;
  }

  private finished(r: Ran, waiters: readonly string[], published: boolean): void {
    const { job, status, value, durationMs, waitMs } = r;
    this.jobsProcessed += 1;
    this.activeJobs.delete(job.id!);
    this.lastActivity = this.host.clock.now();
    this.host.jobFinished(this, { job, status, value, waiters, published, durationMs, waitMs });
  }

  /**
   * A step whose reply crossed a reconnect may have run twice (ioredis resends it): the second
   * copy finds its jobs finished and is refused, or takes jobs the first copy's lost reply had
   * taken too. Every active job locked with this token goes back to the head of wait, in order,
   * but the batch taken ahead (`takenAhead`), which the runner runs next: put back, it would be
   * taken again and run twice. The jobs that ran count as finished if Redis shows them finished;
   * the runner takes again.
   */
  private async reconcileAfter(ran: Ran[], takenAhead?: Promise<Job[]>): Promise<Job[]> {
    const kept = (await takenAhead) ?? [];
    const back = await reclaimOwn(
      this.host.redis,
      this.entity.keys,
      this.guard,
      kept.map((job) => job.id!),
    );
    this.activeJobs.clear();
    for (const job of kept) this.activeJobs.add(job.id!);
    if (back === 'lost') {
      this.markLost();
      return [];
    }
    for (const r of ran) {
      const [finishedOn, waiters] = await this.host.redis.hmget(
        jobKey(this.entity.keys, r.job.id!),
        'finishedOn',
        'aqw',
      );
      if (finishedOn !== null) this.finished(r, waiters ? waiters.split(',') : [], false);
    }
    return [];
  }

  /**
   * Runs a Redis step of the loop until it goes through: a refusal (out of memory, a demoted
   * node) or a lost connection is reported once and retried with a growing pause, never the end
   * of the runner. Undefined when the runner is asked to stop meanwhile.
   */
  private async resilient<T>(what: string, step: () => Promise<T>): Promise<T | undefined> {
    for (let failures = 0; ; failures++) {
      try {
        return await step();
      } catch (err) {
        if (!isTransient(err) || this.state === 'lost') throw err;
        if (failures === 0)
          this.host.report(err, `${what} for ${this.entity.type} ${this.entity.id}`);
        await this.waitForSignal(retryDelay(failures));
        if (this.stopRequested) return undefined;
      }
    }
  }

  private async idle(): Promise<'work' | 'released' | 'lost' | 'stopped'> {
    const clock = this.host.clock;
    let reply = await this.markIdle();
    if (reply === undefined) return 'stopped';
    if (reply.kind === 'lost') {
      this.markLost();
      return 'lost';
    }
    if (reply.kind === 'work') return 'work';
    this.state = 'idle';
    for (;;) {
      // Delays are kept by Redis's clock; the wait is measured here (the same length on any clock).
      const nextDelayed = reply.dueInMs > 0 ? clock.now() + reply.dueInMs : Infinity;
      // A BullMQ tool that puts a failed job back (or resumes the queue) wakes nobody: while the
      // queue keeps failed jobs or is paused, look at it again every watchMs.
      const nextLook = reply.watch ? clock.now() + this.host.watchMs : Infinity;
      const outcome = await this.idleUntil(nextDelayed, nextLook);
      if (outcome !== 'look') return outcome;
      reply = await this.markIdle();
      if (reply === undefined) return 'stopped';
      if (reply.kind === 'lost') {
        this.markLost();
        return 'lost';
      }
      if (reply.kind === 'work') break;
    }
    if (this.state === 'idle') this.state = 'running';
    return this.state === 'running' ? 'work' : 'lost';
  }

  /** Marks the entity idle if nothing is ready; undefined when asked to stop meanwhile. */
  private markIdle(): Promise<IdleReply | undefined> {
    return this.resilient('marking the entity idle', () =>
      markIdle(this.host.redis, this.entity.keys, this.guard),
    );
  }

  /**
   * Waits, idle, for a signal, the next delayed job, `nextLook` (→ 'look': time to look at the
   * queue again) or the idle timeout (then releases, or finds work and keeps the lease).
   */
  private async idleUntil(
    nextDelayed: number,
    nextLook: number,
  ): Promise<'work' | 'look' | 'released' | 'lost' | 'stopped'> {
    const clock = this.host.clock;
    for (;;) {
      if (this.signalled) break;
      if (this.draining) return 'stopped';
      if (this.state !== 'idle') return 'lost';
      const now = clock.now();
      if (now >= nextDelayed) break;
      const idleDeadline = this.lastActivity + this.entity.config.idleTimeoutMs;
      if (now >= idleDeadline) {
        const released = await this.release();
        if (released === 'kept') break;
        return released;
      }
      if (now >= nextLook) return 'look';
      await this.waitForSignal(Math.min(idleDeadline, nextDelayed, nextLook) - now);
    }
    if (this.state === 'idle') this.state = 'running';
    return this.state === 'running' ? 'work' : 'lost';
  }

  private async release(): Promise<'released' | 'lost' | 'kept'> {
    this.state = 'releasing';
    this.released = new Promise((resolve) => (this.markReleased = resolve));
    try {
      const result = await this.resilient('releasing the lease', () =>
        release(this.host.redis, this.entity.keys, this.guard),
      );
      if (result === undefined) {
        this.state = 'running';
        return 'kept';
      }
      if (result === 'released') {
        this.state = 'closed';
        return 'released';
      }
      if (result === 'lost') {
        this.state = 'lost';
        return 'lost';
      }
      this.state = 'running';
      this.lastActivity = this.host.clock.now();
      return 'kept';
    } finally {
      this.markReleased?.();
      this.markReleased = undefined;
    }
  }

  private waitForSignal(ms: number): Promise<void> {
    const clock = this.host.clock;
    return new Promise((resolve) => {
      let timer: ClockTimer | undefined = undefined;
      const done = (): void => {
        clock.clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      timer = clock.setTimeout(done, Math.max(0, ms));
      this.wakeUp = done;
    });
  }
}

/** A return value as BullMQ stores it: JSON, and 'null' for what JSON can't represent. */
function returnValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return 'null'; // the caller hears of it: the result does not serialize
  }
}

function failedOutcome(job: Job, error: unknown): FinishedOutcome {
  const serialized = serializeError(error);
  return {
    jobId: job.id!,
    status: 'failed',
    value: errorMessage(error),
    attempts: job.attemptsMade + 1,
    error: JSON.stringify(serialized),
    stacktrace: JSON.stringify(serialized.stack ? [serialized.stack] : []),
  };
}
