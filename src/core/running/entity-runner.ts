import type { Job } from 'bullmq';
import type { LeaseLostError } from '../../errors';
import { isTransient } from '../../redis/redis-errors';
import { markIdle, type IdleReply } from '../../redis/scripts/idle';
import type { LeaseGuard } from '../../redis/scripts/lease-guard';
import { release } from '../../redis/scripts/release';
import type { ClockTimer } from '../clock';
import type { EntityHandle } from '../entities/entity';
import type { ReleaseReason } from '../events';
import { retryDelay } from './backoff';
import { BatchExecution } from './batch-execution';
import {
  JobExecution,
  type ExecutionHost,
  type ExecutionSeat,
  type FinishedJob,
} from './job-execution';
import { StepTransport, type StepHost } from './step-transport';

export type RunnerState = 'running' | 'idle' | 'releasing' | 'closed' | 'lost';

/** What a runner needs from the pod that owns it. */
export interface RunnerHost extends ExecutionHost, StepHost {
  readonly leaseTtlMs: number;
  /** How often an idle holder looks again at a queue a BullMQ tool may put work in, ms. */
  readonly watchMs: number;
  /** Renews this runner's lease now; false when it was lost. */
  renewLease(runner: EntityRunner): Promise<boolean>;
  /** A job left active. */
  jobFinished(runner: EntityRunner, finished: FinishedJob): void;
  runnerClosed(runner: EntityRunner, reason: ReleaseReason, error?: unknown): void;
}

/**
 * Runs one entity's jobs while this pod holds the entity's lease: takes up to `batchSize` of
 * them at once, runs them in order, and acknowledges them in steps that take the next ones
 * (with a backlog, half a batch at a time, while the next half runs: see BatchExecution).
 * Idles when the queue is empty, and releases the lease after `idleTimeoutSeconds`.
 *
 * The lease token is also the lock of every job the runner takes, so the step script refuses to
 * finish a job once another pod has taken the entity over: the fence is checked inside Redis.
 * Redis refusing or unreachable for a while never ends a runner: its steps are retried while
 * its lease holds. A pod that dies mid-batch has the jobs whose completion was not stored run
 * again by the next holder, in order: at most `batchSize` of them.
 */
export class EntityRunner implements ExecutionSeat {
  state: RunnerState = 'running';
  /** Local time until which the lease is surely valid (send time of the last renewal + TTL). */
  leaseValidUntil: number;
  jobsProcessed = 0;
  /** Score this pod last wrote to the entity's sweep-index entry (removed on a clean release). */
  indexScore = 0;
  readonly since: number;
  /** Why Redis refused a write, when the lease was lost that way. */
  lostError?: LeaseLostError;
  readonly guard: LeaseGuard;

  /** Takes and acknowledges the jobs (see StepTransport). */
  private readonly steps: StepTransport;
  /** Runs the jobs taken: in order, or in lanes with `concurrency` > 1 (see BatchExecution). */
  private readonly batches: BatchExecution;
  private signalled = false;
  private wakeUp?: () => void;
  private stopRequested = false;
  /**
   * Asked to hand the entity over: as at a stop, the job under way runs to its end (with its
   * retries), and the rest of its batch and a batch taken ahead go back unrun, first in line.
   */
  private handingOver = false;
  /** Why the runner was asked to stop: shutdown, or a hand-over to another pod. */
  private stopReason: ReleaseReason = 'stopped';
  private lastActivity: number;
  private released?: Promise<void>;
  private markReleased?: () => void;
  private done?: Promise<void>;

  constructor(
    readonly entity: EntityHandle,
    /** This runner's lease slot key (slot 0 unless maxWorkersPerEntity > 1). */
    readonly leaseKey: string,
    slot: number,
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
    this.steps = new StepTransport(
      {
        entity,
        slot,
        guard: this.guard,
        isLost: () => this.isLost(),
        markLost: (error) => this.markLost(error),
        resilient: (what, call) => this.resilient(what, call),
        finished: (job) => this.finished(job),
      },
      host,
    );
    const execution = new JobExecution(this, host);
    this.batches = new BatchExecution({
      entity,
      steps: this.steps,
      run: (job) => execution.run(job),
      take: (count) => this.take(count),
      isLost: () => this.isLost(),
      isRunning: () => this.state === 'running',
      stopping: () => this.stopRequested,
      draining: () => this.draining,
    });
  }

  /** Jobs taken and not yet acknowledged or given back: their locks are renewed with the lease. */
  get activeJobs(): ReadonlySet<string> {
    return this.steps.activeJobs;
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
    if (this.state === 'running') this.batches.notify();
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

  /** True once asked to hand the entity over (rebalancing), until the runner ends. */
  get handingOff(): boolean {
    return this.handingOver;
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

  /** True while the lease is surely valid with a margin of a third of its TTL. */
  leaseSurelyValid(): boolean {
    return (
      this.state !== 'lost' &&
      this.host.clock.now() + this.host.leaseTtlMs / 3 < this.leaseValidUntil
    );
  }

  /** Starts a job only while the lease is surely valid; renews it first when in doubt. */
  async leaseStillValid(): Promise<boolean> {
    // A renewal whose reply arrives late (the process was paused while it was in flight) proves
    // nothing about now: renew again until one comes back while it still holds.
    for (let tries = 0; tries < 3; tries++) {
      if (this.state === 'lost') return false;
      if (this.leaseSurelyValid()) return true;
      const renewed = await this.resilient('renewing the lease', () => this.host.renewLease(this));
      if (renewed === undefined) return false; // stopping while Redis was unreachable
      if (!renewed) {
        this.markLost();
        return false;
      }
    }
    return this.leaseSurelyValid();
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
          // The jobs in hand go back, and after them those a step on its way is taking.
          const back = [...batch, ...(await this.batches.collectInFlight())];
          if (back.length > 0 && !this.isLost()) await this.steps.acknowledge([], back, false, 0);
          break;
        }
        if (batch.length > 0) {
          batch = await this.batches.run(batch);
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
      await this.batches.settled();
    }
    this.steps.activeJobs.clear();
    this.markReleased?.();
    if (reason === 'stopped') reason = this.stopReason;
    this.host.runnerClosed(this, reason, error);
  }

  /** Takes the entity's next jobs (up to `count`: a batch, or one per lane). */
  private async take(
    count = this.entity.config.concurrency > 1
      ? this.entity.config.concurrency
      : this.entity.config.batchSize,
  ): Promise<Job[]> {
    this.signalled = false;
    // After an idle wait (or a pause) the lease may be gone: don't take a job we can't run.
    if (!(await this.leaseStillValid())) return [];
    // One lane runs nothing else: a take that finds nothing marks the holder idle.
    const alone = this.entity.config.concurrency <= 1;
    return this.steps.acknowledge([], [], false, count, undefined, undefined, alone);
  }

  /** A job's outcome is stored: the pod hears of it. */
  private finished(job: FinishedJob): void {
    this.jobsProcessed += 1;
    this.lastActivity = this.host.clock.now();
    this.host.jobFinished(this, job);
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
    // Marked idle by the step that found nothing to take, or by a call of its own.
    const marked = this.steps.idleMark();
    let reply: IdleReply | undefined = marked ? { kind: 'idle', ...marked } : await this.markIdle();
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
