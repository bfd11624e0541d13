import { Job, raw2NextJobData } from 'bullmq';
import type { IQueueBackend } from 'bullmq';
import { runScript } from '../redis/scripts';
import type { RedisClient } from './connections';
import type { EntityHandle } from './entity';
import type { EntityJobHandler, JobContext } from './job-context';

export type RunnerState = 'running' | 'idle' | 'releasing' | 'closed' | 'lost';

/** What a runner needs from the engine that owns it. */
export interface RunnerHost {
  readonly podId: string;
  readonly command: RedisClient;
  readonly leaseTtlMs: number;
  /** Changes whenever the command connection closed (see `Connections.commandEpoch`). */
  readonly connectionEpoch: number;
  handlerFor(type: string): EntityJobHandler;
  /** Renews this runner's lease now; false when it was lost. */
  renewLease(runner: EntityRunner): Promise<boolean>;
  /** `replied`: the result was already published with the complete. */
  jobFinished(
    runner: EntityRunner,
    job: Job,
    status: 'completed' | 'failed',
    value: unknown,
    replied?: boolean,
  ): void;
  runnerClosed(
    runner: EntityRunner,
    reason: 'released' | 'lost' | 'stopped' | 'error',
    error?: unknown,
  ): void;
  reportError(error: unknown, context: string): void;
  /** Jobs this pod's runners are running right now. */
  jobsRunning: number;
  /**
   * How to publish this job's result together with its complete, or undefined to publish it
   * after the complete's reply (nobody awaits it remotely, or the pod is busy: see the engine).
   */
  replyWithCompletion(job: Job, value: unknown): ReplyWithCompletion | undefined;
}

/** A result published by the complete script itself, once the complete went through. */
export interface ReplyWithCompletion {
  /** The return value as BullMQ stores it. */
  returnValue: string;
  channel: string;
  message: string;
}

type NextJobData =
  [Record<string, unknown> | null, string?, number?, number?] | undefined | void | unknown[];

function isLockError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  // moveToFinished's (and complete.lua's) codes: -1 missing job, -2 missing lock, -3 not active,
  // -6 lock held by another token (the new holder already took the job back).
  return /Missing lock|Lock mismatch|is not in the active state|Missing key for job/.test(message);
}

/**
 * Runs one entity's jobs, one at a time, while this pod holds the entity's lease.
 *
 * The lease token is also the BullMQ lock token of every job the runner takes, so the complete
 * script (like BullMQ's `moveToFinished`) refuses ("Missing lock") to complete a job once
 * another pod has taken the entity over: the fence is checked inside Redis at no extra round
 * trip.
 */
export class EntityRunner {
  state: RunnerState = 'running';
  /** Local time until which the lease is surely valid (send time of the last renewal + TTL). */
  leaseValidUntil: number;
  /** Ids of the jobs being run, whose locks the heartbeat renews with the lease. */
  readonly activeJobs = new Set<string>();
  jobsProcessed = 0;
  /** Score this pod last wrote to the entity's sweep-index entry (removed on a clean release). */
  indexScore = 0;
  readonly since = Date.now();

  private signalled = false;
  private wakeUp?: () => void;
  private stopRequested = false;
  private lastActivity = Date.now();
  private released?: Promise<void>;
  private markReleased?: () => void;
  private done?: Promise<void>;
  private readonly lanes = new Set<Promise<void>>();

  constructor(
    readonly entity: EntityHandle,
    /** This runner's lease slot key (slot 0 unless maxWorkersPerEntity > 1). */
    readonly leaseKey: string,
    readonly token: string,
    readonly fencingToken: number,
    leaseSentAt: number,
    private readonly host: RunnerHost,
  ) {
    this.leaseValidUntil = leaseSentAt + host.leaseTtlMs;
  }

  /** True while a job enqueued from this pod can be handed over in memory. */
  acceptsLocalWork(): boolean {
    return this.state === 'running' || this.state === 'idle';
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
    if (
      this.state === 'running' &&
      this.lanes.size > 0 &&
      this.lanes.size < this.entity.config.concurrency
    ) {
      this.startLane();
    }
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

  markLost(): void {
    if (this.state === 'closed' || this.state === 'lost') return;
    this.state = 'lost';
    this.wakeUp?.();
  }

  private get backend(): IQueueBackend {
    return this.entity.backend;
  }

  private async loop(): Promise<void> {
    let reason: 'released' | 'lost' | 'stopped' | 'error' = 'stopped';
    let error: unknown;
    try {
      let first = await this.fetch();
      for (;;) {
        if (this.state === 'lost') {
          reason = 'lost';
          break;
        }
        if (this.stopRequested) break;
        if (first) {
          await this.runLanes(first);
          first = undefined;
          continue;
        }
        const outcome = await this.idle();
        if (outcome !== 'work') {
          reason = outcome;
          break;
        }
        first = await this.fetch();
      }
    } catch (err) {
      reason = this.state === 'lost' ? 'lost' : 'error';
      error = err;
      this.stopRequested = true;
      await Promise.allSettled([...this.lanes]);
    }
    this.activeJobs.clear();
    this.markReleased?.();
    this.host.runnerClosed(this, reason, error);
  }

  /** Runs `concurrency` lanes, each taking jobs until the queue is empty; waits for all. */
  private async runLanes(first: Job): Promise<void> {
    this.startLane(first);
    for (let i = 1; i < this.entity.config.concurrency; i++) this.startLane();
    while (this.lanes.size > 0) await Promise.all([...this.lanes]);
  }

  private startLane(first?: Job): void {
    const lane: Promise<void> = this.lane(first).finally(() => this.lanes.delete(lane));
    this.lanes.add(lane);
  }

  private async lane(first?: Job): Promise<void> {
    let job = first ?? (await this.fetch());
    while (job && !this.stopRequested && this.state === 'running') job = await this.process(job);
  }

  private toJob(raw: NextJobData): Job | undefined {
    if (!raw || !Array.isArray(raw) || !raw[0]) return undefined;
    const job = Job.fromJSON(this.entity.queue, raw[0] as never, raw[1] as string);
    job.token = this.token;
    return job;
  }

  private async fetch(): Promise<Job | undefined> {
    this.signalled = false;
    // After an idle wait (or a pause) the lease may be gone: don't take a job we can't run.
    if (!(await this.leaseStillValid())) return undefined;
    const epoch = this.host.connectionEpoch;
    const raw = (await this.backend.moveToActive(this.token)) as NextJobData;
    if (epoch !== this.host.connectionEpoch) return this.reconcile();
    return this.toJob(raw);
  }

  /**
   * A job move whose reply crossed a reconnect may have run twice: ioredis resends it, and the
   * first copy may have moved a job to active that this runner never saw. Every active job
   * locked with this token that no lane runs goes back to the head of wait, in order, the one
   * just handed back included; the runner takes them again from there.
   */
  private async reconcile(): Promise<undefined> {
    const k = this.entity.queue.keys;
    const back = await runScript(
      this.host.command,
      'reclaimOwn',
      [k.active, k.wait, this.leaseKey],
      [this.token, this.entity.jobKeyPrefix, ...this.activeJobs],
    );
    if (back === -1) this.markLost();
    return undefined;
  }

  private async process(job: Job): Promise<Job | undefined> {
    this.host.jobsRunning += 1;
    try {
      return await this.runJob(job);
    } finally {
      this.host.jobsRunning -= 1;
    }
  }

  /** Runs a job with its in-place retries; returns the next job BullMQ handed back, if any. */
  private async runJob(job: Job): Promise<Job | undefined> {
    this.activeJobs.add(job.id!);
    this.lastActivity = Date.now();
    const config = this.entity.config;
    if (job.deferredFailure) return this.fail(job, new Error(job.deferredFailure));
    if (!(await this.leaseStillValid())) return this.giveBack(job);

    let attempt = job.attemptsMade + 1;
    for (;;) {
      const context: JobContext = {
        entityType: this.entity.type,
        entityId: this.entity.id,
        fencingToken: this.fencingToken,
        attempt,
        podId: this.host.podId,
      };
      let result: unknown;
      try {
        result = await this.host.handlerFor(this.entity.type)(job, context);
      } catch (err) {
        if (this.state === 'lost') return undefined;
        if (attempt >= config.attempts) return this.fail(job, err);
        const made = await runScript(
          this.host.command,
          'recordAttempt',
          [this.entity.jobKey(job.id!), this.entity.lockKey(job.id!)],
          [this.token, errorMessage(err)],
        );
        if (made === -1) {
          this.markLost();
          return undefined;
        }
        job.attemptsMade = Number(made);
        const delay = backoffDelay(config.backoff, attempt);
        if (delay > 0) await sleep(delay);
        if (!(await this.leaseStillValid())) return this.giveBack(job);
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
    const k = this.entity.queue.keys;
    await runScript(
      this.host.command,
      'giveBack',
      [k.active, k.wait, this.entity.lockKey(job.id!)],
      [this.token, job.id!],
    );
    this.activeJobs.delete(job.id!);
    return undefined;
  }

  private fetchNext(): boolean {
    return !this.stopRequested && this.state === 'running';
  }

  private async complete(job: Job, result: unknown): Promise<Job | undefined> {
    const epoch = this.host.connectionEpoch;
    const entity = this.entity;
    try {
      const reply = this.host.replyWithCompletion(job, result);
      // As BullMQ stores it: JSON, and 'null' for what JSON can't represent at the top level.
      const returnValue = reply?.returnValue ?? JSON.stringify(result) ?? 'null';
      const [keepCount, keepAge, keepLimit] = entity.keepCompleted;
      const outcome = (await runScript(
        this.host.command,
        'complete',
        entity.completeKeys(job.id!),
        [
          job.id!,
          Date.now(),
          returnValue,
          this.token,
          keepCount,
          keepAge,
          keepLimit,
          this.fetchNext() ? 1 : 0,
          entity.jobKeyPrefix,
          this.host.leaseTtlMs,
          reply?.channel ?? '',
          reply?.message ?? '',
        ],
      )) as number | unknown[];
      if (typeof outcome === 'number' && outcome < 0) throw finishError(outcome, job.id!);
      const next =
        outcome === 1
          ? await this.backend.moveToActive(this.token)
          : Array.isArray(outcome)
            ? raw2NextJobData(outcome)
            : undefined;
      return this.finished(
        job,
        'completed',
        result,
        next as NextJobData,
        epoch,
        reply !== undefined,
      );
    } catch (err) {
      return this.handleFinishError(err, job, 'completed', result, epoch);
    }
  }

  private async fail(job: Job, error: unknown): Promise<Job | undefined> {
    const pause = this.entity.config.onFailure === 'pause';
    const epoch = this.host.connectionEpoch;
    try {
      const { result: next } = await this.backend.moveToFailed(
        job,
        errorMessage(error),
        this.entity.config.removeOnFail,
        this.token,
        this.fetchNext() && !pause,
      );
      return this.finished(job, 'failed', error, next, epoch);
    } catch (err) {
      return this.handleFinishError(err, job, 'failed', error, epoch);
    }
  }

  /** The job left active; `next` is the job BullMQ moved to active in the same call, if any. */
  private async finished(
    job: Job,
    status: 'completed' | 'failed',
    value: unknown,
    next: NextJobData,
    epoch: number,
    replied = false,
  ): Promise<Job | undefined> {
    this.jobsProcessed += 1;
    this.finishedJob(job, status, value, replied);
    if (status === 'failed' && this.entity.config.onFailure === 'pause') {
      await this.backend.pause(true);
      if (epoch !== this.host.connectionEpoch) await this.reconcile();
      return undefined;
    }
    if (epoch !== this.host.connectionEpoch) return this.reconcile();
    return this.toJob(next);
  }

  private finishedJob(
    job: Job,
    status: 'completed' | 'failed',
    value: unknown,
    replied = false,
  ): void {
    this.activeJobs.delete(job.id!);
    this.lastActivity = Date.now();
    this.host.jobFinished(this, job, status, value, replied);
  }

  /** True when the job is no longer in Redis or has left active for good. */
  private async isFinished(job: Job): Promise<boolean> {
    const key = this.entity.jobKey(job.id!);
    const command = this.host.command;
    const [exists, finishedOn] = await Promise.all([
      command.exists(key),
      command.hget(key, 'finishedOn'),
    ]);
    return exists === 0 || finishedOn !== null;
  }

  private async handleFinishError(
    err: unknown,
    job: Job,
    status: 'completed' | 'failed',
    value: unknown,
    epoch: number,
  ): Promise<undefined> {
    if (!isLockError(err)) throw err;
    if (epoch !== this.host.connectionEpoch) {
      // The reply crossed a reconnect: if the lease is still ours, nobody else can have moved
      // the job, so when it is finished the first copy of this call did it and the resent copy
      // found it gone.
      const back = await this.reconcile();
      if (this.state !== 'lost' && (await this.isFinished(job))) {
        this.jobsProcessed += 1;
        this.finishedJob(job, status, value);
        if (status === 'failed' && this.entity.config.onFailure === 'pause')
          await this.backend.pause(true);
      }
      this.activeJobs.delete(job.id!);
      return back;
    }
    // Another pod took the entity over and recovered this job: it is not ours to ack.
    this.markLost();
    return undefined;
  }

  /** Starts a job only while the lease is surely valid; renews it first when in doubt. */
  private async leaseStillValid(): Promise<boolean> {
    const margin = this.host.leaseTtlMs / 3;
    // A renewal whose reply arrives late (the process was paused while it was in flight) proves
    // nothing about now: renew again until one comes back while it still holds.
    for (let tries = 0; tries < 3; tries++) {
      if (this.state === 'lost') return false;
      if (Date.now() + margin < this.leaseValidUntil) return true;
      if (!(await this.host.renewLease(this))) {
        this.markLost();
        return false;
      }
    }
    return this.state !== 'lost' && Date.now() + margin < this.leaseValidUntil;
  }

  private async idle(): Promise<'work' | 'released' | 'lost' | 'stopped'> {
    const reply = (await runScript(this.host.command, 'idle', this.entity.idleKeys(this.leaseKey), [
      this.token,
      Date.now(),
      this.entity.jobKeyPrefix,
    ])) as number[];
    if (reply[0] === -1) {
      this.markLost();
      return 'lost';
    }
    if (reply[0] === 1) return 'work';
    const nextDelayed = Number(reply[1]) || Infinity;
    this.state = 'idle';
    for (;;) {
      if (this.signalled) break;
      if (this.stopRequested) return 'stopped';
      if (this.state !== 'idle') return 'lost';
      const now = Date.now();
      if (now >= nextDelayed) break;
      const idleDeadline = this.lastActivity + this.entity.config.idleTimeoutMs;
      if (now >= idleDeadline) {
        const released = await this.release();
        if (released === 'kept') break;
        return released;
      }
      await this.waitForSignal(Math.min(idleDeadline, nextDelayed) - now);
    }
    if (this.state === 'idle') this.state = 'running';
    return this.state === 'running' ? 'work' : 'lost';
  }

  private async release(): Promise<'released' | 'lost' | 'kept'> {
    this.state = 'releasing';
    this.released = new Promise((resolve) => (this.markReleased = resolve));
    try {
      const result = Number(
        await runScript(this.host.command, 'release', this.entity.stateKeys(this.leaseKey), [
          this.token,
        ]),
      );
      if (result === 1) {
        this.state = 'closed';
        return 'released';
      }
      if (result === -1) {
        this.state = 'lost';
        return 'lost';
      }
      this.state = 'running';
      this.lastActivity = Date.now();
      return 'kept';
    } finally {
      this.markReleased?.();
      this.markReleased = undefined;
    }
  }

  private waitForSignal(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.wakeUp = done;
    });
  }
}

/** The error BullMQ's moveToFinished would have thrown for the complete script's codes. */
function finishError(code: number, jobId: string): Error {
  const reasons: Record<number, string> = {
    [-1]: `Missing key for job ${jobId}`,
    [-2]: `Missing lock for job ${jobId}`,
    [-3]: `Job ${jobId} is not in the active state`,
    [-6]: `Lock mismatch for job ${jobId}`,
  };
  return new Error(`${reasons[code] ?? `Unknown code ${code} for job ${jobId}`}. complete`);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

export function backoffDelay(
  backoff: { type: 'fixed' | 'exponential'; delay: number } | undefined,
  attempt: number,
): number {
  if (!backoff) return 0;
  return backoff.type === 'fixed' ? backoff.delay : backoff.delay * 2 ** (attempt - 1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
