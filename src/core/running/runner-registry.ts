import type { ActiveEntity } from '../engine-types';
import type { Job } from 'bullmq';
import type { RedisClient } from '../../redis/connections';
import type { KeyBuilder } from '../../redis/keys';
import { relinquish } from '../../redis/scripts/relinquish';
import { signal } from '../../redis/scripts/signal';
import { touchIndex } from '../../redis/scripts/touch-index';
import { unindex } from '../../redis/scripts/unindex';
import type { FailedIndex } from '../admin/failed-index';
import type { Clock } from '../clock';
import type { EntityHandle } from '../entities/entity';
import type { EntityJobHandler } from '../entities/job-context';
import type { EventSink, ReleaseReason } from '../events';
import type { EntityStep, StepResult } from '../../redis/scripts/step';
import type { ReplySender } from '../replies/reply-sender';
import { EntityRunner, type RunnerHost } from './entity-runner';
import type { ExecutionSeat, FinishedJob, JobStatus } from './job-execution';
import { StepBatcher } from './step-batcher';

/** What the runners of a pod need from the pod. */
export interface RunnersContext {
  readonly podId: string;
  readonly redis: RedisClient;
  readonly clock: Clock;
  readonly keys: KeyBuilder;
  readonly leaseTtlMs: number;
  readonly connectionEpoch: number;
  readonly events: EventSink;
  readonly replies: ReplySender;
  /**
   * Makes sure someone runs an entity whose runner here lost its lease: claim it if it is free
   * with work (Redis lost the lease, or it expired unclaimed), else wake its new owner.
   */
  reroute(entity: EntityHandle): Promise<void>;
  /**
   * How often an entity a BullMQ tool may put work in (it keeps failed jobs, or is paused) is
   * looked at, ms: by its idle holder, and at first in the rest set once released.
   */
  readonly watchMs: number;
  readonly failedIndex: FailedIndex;
  handlerFor(type: string): EntityJobHandler;
  renewLease(runner: EntityRunner): Promise<boolean>;
  report(error: unknown, context: string): void;
}

/** This pod's counters. */
export interface RunnerStats {
  claims: number;
  releases: number;
  /** Entities handed over to pods below their fair share (rebalancing). */
  rebalanced: number;
  leasesLost: number;
  jobsCompleted: number;
  jobsFailed: number;
}

/**
 * The entities this pod holds, one runner each: starts runners on a claim, hears their jobs
 * finish (results to their callers, events) and their end (release, lost lease, hand-back).
 * The only owner of the runner map; others ask.
 */
export class RunnerRegistry implements RunnerHost {
  private readonly runners = new Map<string, EntityRunner>();
  /** Background Redis work (hand-backs, index clean-up) that stop() must wait for. */
  private readonly background = new Set<Promise<void>>();
  /** Hand-overs (rebalancing) giving their lease back, not offered in the spawn set yet. */
  private handBacks = 0;
  readonly stats: RunnerStats = RunnerRegistry.statsOf(undefined);
  /** Jobs this pod's runners are running right now. */
  private running = 0;
  private readonly steps: StepBatcher;

  constructor(private readonly ctx: RunnersContext) {
    this.steps = new StepBatcher({
      redis: ctx.redis,
      podId: ctx.podId,
      leaseTtlMs: ctx.leaseTtlMs,
      replyChannelPrefix: ctx.replies.replyChannelPrefix,
    });
  }

  get podId(): string {
    return this.ctx.podId;
  }

  get redis(): RedisClient {
    return this.ctx.redis;
  }

  get clock(): Clock {
    return this.ctx.clock;
  }

  get leaseTtlMs(): number {
    return this.ctx.leaseTtlMs;
  }

  get connectionEpoch(): number {
    return this.ctx.connectionEpoch;
  }

  get watchMs(): number {
    return this.ctx.watchMs;
  }

  get size(): number {
    return this.runners.size;
  }

  get(ref: string): EntityRunner | undefined {
    return this.runners.get(ref);
  }

  /** Entities held and staying: runners asked to stop or hand over are on their way out. */
  staying(): number {
    let n = 0;
    for (const runner of this.runners.values()) if (!runner.draining) n += 1;
    return n;
  }

  /**
   * Entities this pod is handing over and has not offered yet: their runners finishing a job,
   * or their lease being given back. No registry entry nor the spawn set counts them meanwhile.
   */
  handingOver(): number {
    let n = this.handBacks;
    for (const runner of this.runners.values()) if (runner.handingOff) n += 1;
    return n;
  }

  has(ref: string): boolean {
    return this.runners.has(ref);
  }

  all(): EntityRunner[] {
    return [...this.runners.values()];
  }

  /** The entities this pod runs now, as `activeEntities()` reports them. */
  describe(): ActiveEntity[] {
    return this.all().map((r) => ({
      entityType: r.entity.type,
      entityId: r.entity.id,
      queueName: r.entity.queueName,
      workerName: r.entity.config.workerName(r.entity.id),
      fencingToken: r.fencingToken,
      state: r.state,
      since: r.since,
      jobsProcessed: r.jobsProcessed,
    }));
  }

  /** A registry's counters (a copy); zeros for none (an engine not started). */
  static statsOf(registry: RunnerRegistry | undefined): RunnerStats {
    const zero = {
      claims: 0,
      releases: 0,
      rebalanced: 0,
      leasesLost: 0,
      jobsCompleted: 0,
      jobsFailed: 0,
    };
    return registry ? { ...registry.stats } : zero;
  }

  /** Starts running an entity this pod just claimed. */
  start(
    entity: EntityHandle,
    leaseKey: string,
    slot: number,
    token: string,
    fence: number,
    sentAt: number,
  ): EntityRunner {
    const runner = new EntityRunner(entity, leaseKey, slot, token, fence, sentAt, this);
    this.runners.set(entity.ref, runner);
    this.stats.claims += 1;
    this.ctx.events.emit('entity:claimed', {
      entityType: entity.type,
      entityId: entity.id,
      fencingToken: fence,
    });
    runner.start();
    return runner;
  }

  /** Lets every runner finish its job and hand its lease back; waits for all of it. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    await Promise.all([...this.background]);
  }

  // ── RunnerHost ─────────────────────────────────────────────────────────────

  handlerFor(type: string): EntityJobHandler {
    return this.ctx.handlerFor(type);
  }

  renewLease(runner: EntityRunner): Promise<boolean> {
    return this.ctx.renewLease(runner);
  }

  jobStarted(): void {
    this.running += 1;
  }

  jobEnded(): void {
    this.running -= 1;
  }

  step(step: EntityStep): Promise<StepResult | Error> {
    return this.steps.submit(step);
  }

  completionMessage(jobId: string, status: JobStatus, value: unknown): string {
    return this.ctx.replies.message(jobId, status, value);
  }

  jobRetrying(
    seat: ExecutionSeat,
    job: Job,
    attempt: number,
    error: unknown,
    delayMs: number,
  ): void {
    this.ctx.events.emit('job:retrying', {
      entityType: seat.entity.type,
      entityId: seat.entity.id,
      jobId: job.id!,
      name: job.name,
      fencingToken: seat.fencingToken,
      attempt,
      error,
      delayMs,
    });
  }

  report(error: unknown, context: string): void {
    this.ctx.report(error, context);
  }

  jobFinished(runner: EntityRunner, finished: FinishedJob): void {
    const { job, status, value, waiters, published, durationMs, waitMs } = finished;
    if (status === 'completed') this.stats.jobsCompleted += 1;
    else this.stats.jobsFailed += 1;
    // The awaiting callers first: event listeners may be slow, or write to a socket themselves.
    this.ctx.replies.deliver(job.id!, status, value, waiters, published);
    const { entity } = runner;
    const event = {
      entityType: entity.type,
      entityId: entity.id,
      jobId: job.id!,
      name: job.name,
      fencingToken: runner.fencingToken,
      durationMs,
      waitMs,
    };
    // Object.assign onto the common part, not a spread of it: ~30 ns a job against ~1 µs.
    if (status === 'completed') {
      this.ctx.events.emit('job:completed', Object.assign(event, { result: value }));
      return;
    }
    this.ctx.events.emit(
      'job:failed',
      Object.assign(event, { error: value, attempts: job.attemptsMade + 1 }),
    );
    // After the finish (see FailedIndex): the entity joins its type's entities with failed jobs.
    if (entity.keepFailed[0] !== 0)
      this.track(this.ctx.failedIndex.note(entity), 'indexing an entity with failed jobs');
  }

  runnerClosed(runner: EntityRunner, reason: ReleaseReason, error?: unknown): void {
    const { entity } = runner;
    if (this.runners.get(entity.ref) === runner) this.runners.delete(entity.ref);
    const info = {
      entityType: entity.type,
      entityId: entity.id,
      fencingToken: runner.fencingToken,
      reason,
    };
    if (reason === 'released') {
      this.stats.releases += 1;
      this.ctx.events.emit('entity:released', info);
      // The queue was empty: drop the sweep-index entry now (one command) rather than leave it
      // to the sweep (about ten). Only if nobody touched it since: an enqueue keeps it.
      this.track(
        Promise.all([
          unindex(this.ctx.redis, this.ctx.keys.indexKey(), entity.ref, String(runner.indexScore)),
          this.toRest(entity),
        ]),
        'dropping a released entity from the index',
      );
      return;
    }
    if (reason === 'lost') {
      this.stats.leasesLost += 1;
      const lost = runner.lostError;
      this.ctx.events.emit('lease:lost', lost ? { ...info, error: lost } : info);
      // Jobs handed to this runner in memory (an enqueue from this pod) must not wait for a
      // sweep: whoever holds the entity now, or this pod if nobody does, runs them.
      this.track(this.ctx.reroute(entity), 'handing over an entity whose lease was lost');
      return;
    }
    if (reason === 'error') this.ctx.report(error, `running ${entity.type} ${entity.id}`);
    // Stopped, crashed or rebalanced with the lease still ours: hand it back so another pod
    // takes over now.
    this.track(
      this.handBack(runner, reason === 'rebalanced' ? 'rebalanced' : 'stopped'),
      reason === 'rebalanced' ? 'handing an entity over' : 'releasing a lease',
    );
  }

  /** Runs background Redis work that stopAll() must wait for; reports its failure. */
  private track(work: Promise<unknown>, context: string): void {
    const tracked: Promise<void> = work
      .then(() => undefined)
      .catch((err: unknown) => this.ctx.report(err, context))
      .finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  private async handBack(runner: EntityRunner, reason: 'stopped' | 'rebalanced'): Promise<void> {
    if (reason !== 'rebalanced') return this.giveBack(runner, reason);
    this.handBacks += 1;
    try {
      await this.giveBack(runner, reason);
    } finally {
      this.handBacks -= 1;
    }
  }

  private async giveBack(runner: EntityRunner, reason: 'stopped' | 'rebalanced'): Promise<void> {
    const { entity } = runner;
    const result = await relinquish(this.ctx.redis, entity.keys, runner.guard);
    if (result === 'lost') return; // the lease had already moved on: nothing of ours to hand back
    if (reason === 'rebalanced') this.stats.rebalanced += 1;
    this.ctx.events.emit('entity:released', {
      entityType: entity.type,
      entityId: entity.id,
      fencingToken: runner.fencingToken,
      reason,
    });
    if (result === 'work') await signal(this.ctx.redis, this.ctx.keys.spawnKey(), [entity.ref]);
    else await this.toRest(entity);
  }

  /** An entity with no holder and no work joins the rest set, where the cron manager tidies it. */
  private toRest(entity: EntityHandle): Promise<number> {
    return touchIndex(this.ctx.redis, this.ctx.keys.restKey(), 'NX', [
      [this.ctx.watchMs, entity.ref],
    ]);
  }
}
