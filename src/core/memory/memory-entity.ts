import { LeaseLostError } from '../../errors';
import type { ClockTimer } from '../clock';
import { entityRef } from '../entities/entity-ref';
import type { EntityClaimedEvent, ReleaseReason } from '../events';
import type { ResolvedEntityType } from '../options/resolved-options';
import type { ActiveEntity } from '../engine-types';
import { storedOutcome } from '../replies/job-outcome';
import { MemoryExecution, type ExecutionHolder, type ExecutionHost } from './memory-execution';
import type { StoredJob } from './memory-job';
import { MemoryQueue } from './memory-queue';

/** What an entity of the in-memory engine needs from the engine. */
export interface MemoryHost extends ExecutionHost {
  /** Jobs may start: the engine is started and processing. */
  canRun(): boolean;
  report(error: unknown, context: string): void;
}

/** This engine's hold on an entity: what a lease is to the Redis engine. */
interface Holder extends ExecutionHolder {
  readonly since: number;
  /** Its jobs being run, their retries included. */
  readonly executions: Set<MemoryExecution>;
  idleTimer?: ClockTimer;
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
    const exec = new MemoryExecution(job, this, holder, this.host);
    holder.executions.add(exec);
    this.host.activity.begin();
    exec
      .run()
      .catch((err: unknown) => this.host.report(err, `running ${this.type} ${this.id}`))
      .finally(() => {
        holder.executions.delete(exec);
        holder.lastActivity = this.host.clock.now();
        this.pump();
        this.host.activity.end();
      });
  }

  private event(holder: Holder): EntityClaimedEvent {
    return { entityType: this.type, entityId: this.id, fencingToken: holder.fencingToken };
  }
}
