import type { Job } from 'bullmq';
import type { LeaseLostError } from '../../errors';
import type { RedisClient } from '../../redis/connections';
import { jobExtras } from '../../redis/entity-queue';
import { jobKey } from '../../redis/keys';
import type { LeaseGuard } from '../../redis/scripts/lease-guard';
import { reclaimOwn } from '../../redis/scripts/reclaim-own';
import {
  StepOutOfTurn,
  type EntityStep,
  type FinishedOutcome,
  type StepIdle,
  type StepResult,
} from '../../redis/scripts/step';
import type { Clock } from '../clock';
import type { EntityHandle } from '../entities/entity';
import type { FinishedJob, JobRun, JobStatus } from './job-execution';
import { completedOutcome, failedOutcome } from './outcomes';

/** What the step transport needs from the pod. */
export interface StepHost {
  readonly redis: RedisClient;
  readonly clock: Clock;
  /** Changes whenever the command connection closed (see `Connections.commandEpoch`). */
  readonly connectionEpoch: number;
  /** Sends a step with the turn's others (see StepBatcher). */
  step(step: EntityStep): Promise<StepResult | Error>;
  /** A job's result as the step script can publish it to the pods awaiting it. */
  completionMessage(jobId: string, status: JobStatus, value: unknown): string;
}

/** What the step transport needs from its runner (the lease its steps go under). */
export interface StepSeat {
  readonly entity: EntityHandle;
  /** The runner's lease slot (0 unless maxWorkersPerEntity > 1). */
  readonly slot: number;
  readonly guard: LeaseGuard;
  isLost(): boolean;
  markLost(error?: LeaseLostError): void;
  /** Runs a Redis call until it goes through; undefined when the runner is asked to stop meanwhile. */
  resilient<T>(what: string, call: () => Promise<T>): Promise<T | undefined>;
  /** A job left active: its outcome is stored (or Redis shows it stored, after a reconnect). */
  finished(job: FinishedJob): void;
}

/** A job that ran, waiting for its outcome to be stored. */
export interface Ran {
  job: Job;
  status: JobStatus;
  value: unknown;
  durationMs: number;
  /** From its enqueue to the start of its first attempt (see {@link StepTransport.ran}). */
  waitMs: number;
  outcome: FinishedOutcome;
}

/**
 * The jobs of a step sent ahead, which the runner runs next: a take sent while a batch runs, or
 * the acknowledgement of a batch that also takes (see {@link StepTransport.acknowledgeAhead}).
 */
export type TakenAhead = Promise<Job[]>;

/**
 * A runner's steps (`step-4.lua`, through the pod's StepBatcher): each stores the outcomes of the
 * jobs that ran, gives back those taken and not run, and takes the next ones, in one call. Owns
 * the jobs taken and not yet acknowledged (their locks are renewed with the lease) and when each
 * was taken. A step whose reply crossed a reconnect is reconciled with what Redis holds.
 */
export class StepTransport {
  /** Jobs taken and not yet acknowledged or given back: their locks are renewed with the lease. */
  readonly activeJobs = new Set<string>();
  /** The command connection's close count when the last batch was taken ahead. */
  private aheadEpoch = 0;
  /**
   * What the jobs taken ahead wait on: the last job the step taking them finishes (a step that
   * acknowledges too), null for a take-only step, undefined when they are in hand already.
   */
  private aheadAfter: string | null | undefined;
  /** Set by the last step when it took nothing and marked the holder idle (see {@link idleMark}). */
  private idled: StepIdle | undefined;

  constructor(
    private readonly seat: StepSeat,
    private readonly host: StepHost,
  ) {}

  /** The outcome of a job that ran, as the step stores it. */
  ran(job: Job, run: Extract<JobRun, { kind: 'ran' }>): Ran {
    const { status, value, durationMs, startedAt } = run;
    // Redis stamped processedOn when the step took the job; a job of a batch starts later, by
    // this pod's clock: both are durations, so neither clock's offset matters.
    const takenAt = takeOf(job)?.at ?? startedAt;
    const waitMs = (job.processedOn ?? NaN) - job.timestamp + (startedAt - takenAt);
    const outcome: FinishedOutcome =
      status === 'completed' ? completedOutcome(job, value) : failedOutcome(job, value);
    return { job, status, value, durationMs, waitMs, outcome };
  }

  /**
   * Stores the outcomes of jobs that ran, gives back those that did not, and takes up to `take`
   * next jobs, in one step; tells the runner about each finished job. Resolves with the jobs taken.
   * `takenAhead`: the batch taken while these jobs ran, which the runner runs next. `after`: the
   * last job the step before this one finishes, when that step (`takenAhead`) may still be on its
   * way: refused out of turn, this step goes again once that one went through. `idle`: the
   * runner runs nothing else and has no other step on its way, so a step that takes nothing marks
   * the holder idle itself (see {@link idleMark}).
   */
  async acknowledge(
    ran: Ran[],
    unrun: Job[],
    pause: boolean,
    take: number,
    takenAhead?: TakenAhead,
    after?: string,
    idle = false,
  ): Promise<Job[]> {
    const { seat, host } = this;
    this.idled = undefined;
    // A lone awaited job: its result rides with the step (one round trip sooner for the caller).
    if (ran.length === 1 && jobExtras(ran[0].job).awaited) {
      const { job, status, value } = ran[0];
      ran[0].outcome.message = host.completionMessage(job.id!, status, value);
    }
    const epoch = host.connectionEpoch;
    const step = {
      ...this.stepOf(
        ran.map((r) => r.outcome),
        unrun,
        pause,
        take,
      ),
      after,
      idle: idle && take > 0,
    };
    const send = (): Promise<StepResult | Error | undefined> =>
      seat.resilient('acknowledging jobs', () => host.step(step));
    let result = await send();
    if (result instanceof StepOutOfTurn && takenAhead) {
      await takenAhead.catch(() => undefined);
      if (seat.isLost()) return [];
      result = await send();
    }
    if (result === undefined) return []; // stopping while Redis was unreachable
    if (epoch !== host.connectionEpoch) return this.reconcileAfter(ran, takenAhead);
    // Out of turn again: the step before ended without storing its jobs (the runner stops while
    // Redis refuses writes). Neither are these stored: the next holder runs them again.
    if (result instanceof StepOutOfTurn) return [];
    if (result instanceof Error) {
      seat.markLost(result as LeaseLostError);
      return [];
    }
    for (const job of unrun) this.activeJobs.delete(job.id!);
    ran.forEach((r, i) => this.finished(r, result.waiters[i], r.outcome.message !== undefined));
    this.idled = result.idle;
    return this.jobsOf(result);
  }

  /**
   * What the runner's last step said when it took nothing and marked the holder idle (asked with
   * `idle`): the runner waits without an idle call of its own (`idle-8.lua`), one round trip and
   * one script call fewer each time an entity's queue runs dry. Read once.
   */
  idleMark(): StepIdle | undefined {
    const idled = this.idled;
    this.idled = undefined;
    return idled;
  }

  /**
   * Acknowledges a batch and resolves with the next: the one taken `ahead` (see
   * {@link takeAhead}) with what this step takes, up to `next` jobs (0 when the runner takes
   * no more: paused, stopping or handing over). Taking no more, or giving back jobs of this batch
   * (not run: the lease could not be confirmed before them), the batch taken ahead goes back
   * unrun, after the jobs of this batch not run, in one step, and the runner takes again: those
   * jobs come first, and the batch taken ahead must not run before them. Two give-backs would
   * each put their jobs first in line, so the batch taken ahead, given back second, would run
   * before the earlier jobs.
   */
  async acknowledgeBatch(
    ran: Ran[],
    unrun: Job[],
    pause: boolean,
    ahead: TakenAhead | undefined,
    next: number,
    idle = false,
  ): Promise<Job[]> {
    if (ahead && (next === 0 || unrun.length > 0)) {
      const prefetched = await ahead;
      if (this.seat.isLost()) return [];
      return this.acknowledge(ran, [...unrun, ...prefetched], pause, 0);
    }
    if (!ahead) {
      // Nothing else on its way: the step may mark the holder idle when it takes nothing.
      const last = idle && !pause && unrun.length === 0;
      return this.acknowledge(ran, unrun, pause, next, undefined, undefined, last);
    }
    const epoch = this.aheadEpoch;
    const after = this.aheadAfter ?? undefined;
    const acked = this.acknowledge(ran, unrun, pause, 0, ahead, after);
    const [ackedNext, prefetched] = await Promise.all([acked, ahead]);
    if (this.seat.isLost()) return [];
    if (epoch !== this.host.connectionEpoch) return this.keepTakenAhead(prefetched);
    return [...ackedNext, ...prefetched];
  }

  /**
   * Acknowledges a batch in a step that also takes `take` jobs, and resolves with the jobs taken
   * `ahead`, which run while this step is on its way: `acknowledged` is that step, whose jobs run
   * after them. Resolves with no jobs, `acknowledged` undefined, when the runner lost its lease.
   * The caller keeps the jobs run and not yet acknowledged within the crash bound: this batch and
   * the next together.
   *
   * The step goes out before `ahead` is back, so that Redis has it queued when it has done that
   * one, but never ahead of it: it names the last job that one finishes (`after`), and Redis
   * refuses it until that job is finished (two steps that take, retried in either order while
   * Redis refuses writes, would otherwise have the later one take the earlier jobs). A take-only
   * step names no job: this one waits for it.
   */
  async acknowledgeAhead(
    ran: Ran[],
    ahead: TakenAhead,
    take: number,
  ): Promise<{ jobs: Job[]; acknowledged?: TakenAhead }> {
    const epoch = this.aheadEpoch;
    if (this.aheadAfter === null) await ahead;
    const after = this.aheadAfter ?? undefined;
    this.aheadEpoch = this.host.connectionEpoch;
    this.aheadAfter = ran[ran.length - 1].job.id!;
    const acknowledged = this.acknowledge(ran, [], false, take, ahead, after);
    acknowledged.catch(() => undefined); // awaited by whoever runs next, or dropped when lost
    const prefetched = await ahead;
    if (this.seat.isLost()) return { jobs: [] };
    if (epoch !== this.host.connectionEpoch) {
      // As in acknowledgeBatch: only the jobs in hand are kept, every other job of this runner
      // goes back in order, those this step took included (they come after any a lost reply
      // took).
      for (const job of await acknowledged) this.activeJobs.delete(job.id!);
      return { jobs: await this.keepTakenAhead(prefetched) };
    }
    // Nothing in hand: the jobs this step takes are the next.
    if (prefetched.length === 0) return { jobs: await acknowledged };
    return { jobs: prefetched, acknowledged };
  }

  /**
   * The connection closed while a batch was taken ahead: a take whose reply was lost (its
   * result is dropped, see {@link takeAhead}) may have moved jobs to active, twice if resent.
   * The jobs in hand run next; every other active job locked with this token goes back to the
   * head of wait, in order, before the runner takes again.
   */
  private async keepTakenAhead(prefetched: Job[]): Promise<Job[]> {
    const { seat, host } = this;
    const running = prefetched.map((job) => job.id!);
    const back = await seat.resilient('putting back jobs', () =>
      reclaimOwn(host.redis, seat.entity.keys, seat.guard, running),
    );
    if (back === 'lost') seat.markLost();
    return back === undefined || back === 'lost' ? [] : prefetched;
  }

  /** Jobs taken already that run after the batch in hand: as if taken ahead. */
  inHand(jobs: Job[]): TakenAhead {
    this.aheadEpoch = takeOf(jobs[0])?.epoch ?? this.host.connectionEpoch;
    this.aheadAfter = undefined;
    return Promise.resolve(jobs);
  }

  /** Sends a take-only step now, while the batch taken before runs; see {@link acknowledgeBatch}. */
  takeAhead(take: number): TakenAhead {
    this.idled = undefined;
    const epoch = this.host.connectionEpoch;
    this.aheadEpoch = epoch;
    this.aheadAfter = null;
    return this.collect(
      this.seat
        .resilient('taking jobs', () => this.host.step(this.stepOf([], [], false, take)))
        .then((result) => (epoch !== this.host.connectionEpoch ? undefined : result)),
    );
  }

  /** The jobs a take-only step (sent ahead) brought back. */
  private async collect(pending: Promise<StepResult | Error | undefined>): Promise<Job[]> {
    const result = await pending;
    if (result === undefined) return [];
    if (result instanceof Error) {
      this.seat.markLost(result as LeaseLostError);
      return [];
    }
    return this.jobsOf(result);
  }

  private stepOf(
    finished: FinishedOutcome[],
    unrun: Job[],
    pause: boolean,
    take: number,
  ): EntityStep {
    const { entity, slot, guard } = this.seat;
    return {
      keys: entity.keys,
      slot,
      guard,
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
    const { entity, guard } = this.seat;
    const jobs = result.taken.map((t) => entity.toJob(t, guard.token));
    if (result.fetch && jobs.length === 0) {
      const job = entity.queue.toJob(await entity.queue.moveToActive(guard.token), guard.token);
      if (job) jobs.push(job);
    }
    const take: Take = { at: this.host.clock.now(), epoch: this.host.connectionEpoch };
    for (const job of jobs) {
      this.activeJobs.add(job.id!);
      (job as Taken)[TAKE] = take;
    }
    return jobs;
  }

  /**
   * Whether the command connection closed since `job` was taken. Redis may have restarted
   * meanwhile, without its data (the lease, the job): the job must not start under a lease
   * nobody checked since (see {@link acknowledgeAfterReconnect}).
   */
  takenBeforeReconnect(job: Job): boolean {
    return takeOf(job)?.epoch !== this.host.connectionEpoch;
  }

  /**
   * Ends a batch at its first job taken before the command connection closed: stores the
   * outcomes of the jobs that ran, then puts back every other active job locked with this token
   * (the rest of the batch, any batch taken ahead) to the head of wait in their order, for the
   * runner to take again; the lease is marked lost instead when it is gone (Redis lost it with
   * its data, or another pod holds it). Resolves with no jobs: the runner takes again.
   */
  async acknowledgeAfterReconnect(
    ran: Ran[],
    unrun: Job[],
    ahead: TakenAhead | undefined,
  ): Promise<Job[]> {
    const { seat, host } = this;
    // Its jobs, if it took any, are active and go back with the others.
    const taken = ahead ? await ahead : [];
    if (ran.length > 0) await this.acknowledge(ran, [], false, 0);
    if (seat.isLost()) return [];
    for (const job of unrun) this.activeJobs.delete(job.id!);
    for (const job of taken) this.activeJobs.delete(job.id!);
    // Kept: the jobs other lanes run (concurrency > 1); none otherwise.
    const running = [...this.activeJobs];
    const back = await seat.resilient('putting back jobs', () =>
      reclaimOwn(host.redis, seat.entity.keys, seat.guard, running),
    );
    if (back === 'lost') seat.markLost();
    return [];
  }

  private finished(r: Ran, waiters: readonly string[], published: boolean): void {
    const { job, status, value, durationMs, waitMs } = r;
    this.activeJobs.delete(job.id!);
    this.seat.finished({ job, status, value, waiters, published, durationMs, waitMs });
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
    const { entity, guard } = this.seat;
    const kept = (await takenAhead) ?? [];
    const back = await reclaimOwn(
      this.host.redis,
      entity.keys,
      guard,
      kept.map((job) => job.id!),
    );
    this.activeJobs.clear();
    for (const job of kept) this.activeJobs.add(job.id!);
    if (back === 'lost') {
      this.seat.markLost();
      return [];
    }
    for (const r of ran) {
      const [finishedOn, waiters] = await this.host.redis.hmget(
        jobKey(entity.keys, r.job.id!),
        'finishedOn',
        'aqw',
      );
      if (finishedOn !== null) this.finished(r, waiters ? waiters.split(',') : [], false);
    }
    return [];
  }
}

/** When a job was taken: on this pod's clock, and the command connection's close count then. */
interface Take {
  readonly at: number;
  readonly epoch: number;
}

/**
 * Where a job taken keeps its {@link Take} (one record shared by the jobs of a step): a property
 * only this module can name. WeakMaps keyed by the job cost ~0.3-1 µs per job on the hot path.
 */
const TAKE = Symbol('atomic-queues.take');
type Taken = Job & { [TAKE]?: Take };

function takeOf(job: Job): Take | undefined {
  return (job as Taken)[TAKE];
}
