import { EnqueueTimeoutError, ReplicationTimeoutError } from '../../errors';
import { isCluster, type RedisClient } from '../../redis/connections';
import type { KeyBuilder } from '../../redis/keys';
import {
  ADD_MANY_MAX_JOBS,
  decodeJobReply,
  sendAdd,
  sendAddMany,
  type AddManyJobArgs,
} from '../../redis/scripts/add';
import { sendAwait } from '../../redis/scripts/await';
import { decodeClaim, sendClaim } from '../../redis/scripts/claim';
import { sendSetTrace } from '../../redis/scripts/set-trace';
import { sendTouchIndex, touchIndex } from '../../redis/scripts/touch-index';
import type { ScriptTarget } from '../../redis/script-loader';
import type { Clock } from '../clock';
import type { DurabilityOptions } from '../options/atomic-queues-options';
import type { EntityHandle } from '../entities/entity';
import type { Claims, PendingClaim } from '../placement/claims';
import { storedOutcome } from '../replies/job-outcome';
import type { EntityRunner } from '../running/entity-runner';
import type { Waiter } from '../replies/reply-waiters';
import type { RunnerRegistry } from '../running/runner-registry';
import {
  AddBatcher,
  addSink,
  AwaitedAdd,
  type AddGroup,
  type AddRequest,
  type AddSink,
  type PendingJob,
} from './add-batcher';
import { enqueueError } from './enqueue-errors';

/** What sending enqueues needs from the pod. */
export interface AddTransportContext {
  readonly podId: string;
  readonly redis: RedisClient;
  readonly keys: KeyBuilder;
  readonly clock: Clock;
  readonly leaseTtlMs: number;
  readonly enqueueTimeoutMs: number;
  /** Replicas every add waits for (`WAIT`); undefined when off. */
  readonly durability?: Readonly<DurabilityOptions>;
  readonly runners: RunnerRegistry;
  readonly claims: Claims;
  /** Redis's clock as the pod last heard it: a delayed job is timed from it, not the pod's. */
  redisNow(): number;
}

/**
 * Where one job's replies sit in a batch: its add (the `sub`th reply of a call that added many),
 * and the await of a delayed awaited job.
 */
interface JobSlots {
  job: PendingJob;
  add: number;
  sub?: number;
  await?: number;
}

/**
 * Gets checked jobs into Redis and makes sure someone runs them.
 * - Hot: this pod runs the entity. Add the job (one round trip) and hand it over in memory.
 * - Otherwise the jobs join the turn's batch (see {@link AddBatcher}): in one pipeline, per
 *   entity, the jobs are added and then the claim script runs, in that order on the entity's
 *   slot: the entity is claimed here if free, its idle owner is woken, or it is offered to the
 *   processing pods through the spawn set.
 * A job awaited by a caller here names this pod among its waiters as it is added; a job id that
 * was stored already answers its caller with the stored result when it has one.
 * With `durability`, each pipeline ends with `WAIT`: it goes with the writes to the node (the
 * entity's master, on a Cluster) and connection that took them, and counts the replicas that
 * have them; too few reject the enqueue with ReplicationTimeoutError (the job stays stored).
 */
export class AddTransport {
  private readonly batcher = new AddBatcher((groups) => this.sendBatch(groups));

  constructor(private readonly ctx: AddTransportContext) {}

  /** Adds one or more jobs of one entity, in order; resolves with their ids. */
  async add(entity: EntityHandle, jobs: ReadonlyArray<PendingJob>): Promise<string[]> {
    const runner = this.ctx.runners.get(entity.ref);
    if (runner?.acceptsLocalWork() === true && jobs.length === 1) {
      // Hot path: straight on the connection, no pipeline (building one copies every script
      // definition).
      return this.withTimeout(entity, this.addHot(entity, jobs[0], runner));
    }
    return this.batcher.add(entity, jobs);
  }

  /**
   * {@link add} for one job whose caller awaits its result through `waiter`: a failed add fails
   * the waiter. In a burst (a batched add) this costs no promise of its own.
   */
  addAwaited(entity: EntityHandle, job: PendingJob, waiter: Waiter): void {
    const runner = this.ctx.runners.get(entity.ref);
    if (runner?.acceptsLocalWork() === true) {
      this.withTimeout(entity, this.addHot(entity, job, runner)).catch((err: unknown) =>
        waiter.fail(err),
      );
      return;
    }
    this.batcher.queue(entity, new AwaitedAdd(job, waiter));
  }

  private async addHot(
    entity: EntityHandle,
    job: PendingJob,
    runner: EntityRunner,
  ): Promise<string[]> {
    const sink = this.sink(1);
    const slots = this.queueJob(sink, entity, job);
    const waitAt = this.queueWait(sink);
    const replies = await sink.exec();
    this.settle(slots, replies);
    await this.afterLocalAdd(entity, runner);
    this.checkReplicated(entity, replies, waitAt);
    return [job.jobId];
  }

  /**
   * Where a batch of `jobs` jobs goes. With durability always a pipeline: `WAIT` must ride with
   * the writes, and a Cluster sends a lone keyless command to any node.
   */
  private sink(jobs: number): AddSink {
    return addSink(this.ctx.redis, jobs, jobs !== 1 || this.ctx.durability !== undefined);
  }

  /** Queues `WAIT` after the batch's writes when durability is on; returns its reply's index. */
  private queueWait(sink: AddSink): number | undefined {
    const durability = this.ctx.durability;
    if (!durability) return undefined;
    const at = sink.length;
    sink.queue((target) => target.wait(durability.replicas, durability.timeoutMs));
    return at;
  }

  /** Throws when `WAIT` counted fewer replicas than asked (or failed). */
  private checkReplicated(
    entity: EntityHandle,
    replies: [Error | null, unknown][],
    waitAt: number | undefined,
  ): void {
    const durability = this.ctx.durability;
    if (!durability || waitAt === undefined) return;
    const [error, acknowledged] = replies[waitAt];
    if (error) throw enqueueError(error, entity);
    if (Number(acknowledged) >= durability.replicas) return;
    throw new ReplicationTimeoutError(
      entity.type,
      entity.id,
      durability.replicas,
      Number(acknowledged),
      durability.timeoutMs,
    );
  }

  /**
   * Queues one job's add on `sink` (synchronously, in order). Jobs neither delayed nor
   * prioritized go through the engine's add script (see add-8.lua), delayed ones through
   * BullMQ's addDelayedJob, followed by its trace context when traced, and an await when the
   * caller waits for the result.
   */
  private queueJob(sink: AddSink, entity: EntityHandle, job: PendingJob): JobSlots {
    const awaitingPod = job.waiter ? this.ctx.podId : undefined;
    const add = sink.length;
    if (!job.delay) {
      const args = { ...this.addArgs(entity, job), eventsMaxLen: entity.eventsMaxLen };
      sink.queue((target) => sendAdd(target, entity.keys, args));
      return { job, add };
    }
    sink.queue((target) =>
      entity.queue.sendDelayedAdd(target, {
        name: job.name,
        data: job.data,
        jobId: job.jobId,
        delay: job.delay!,
        timestamp: this.ctx.redisNow(),
      }),
    );
    const trace = job.trace;
    if (trace !== undefined)
      sink.queue((target) => sendSetTrace(target, entity.keys, job.jobId, trace));
    if (!awaitingPod) return { job, add };
    const awaitAt = sink.length;
    sink.queue((target) => sendAwait(target, entity.keys, job.jobId, awaitingPod));
    return { job, add, await: awaitAt };
  }

  /**
   * Queues the adds of an entity's requests, in order (see {@link queueJob}): runs of jobs neither
   * delayed nor prioritized go as one `addMany-7.lua` call per {@link ADD_MANY_MAX_JOBS} (a
   * burst of enqueues, `enqueueBulk`: one call instead of one per job). Returns each request's
   * slots.
   */
  private queueJobs(sink: AddSink, entity: EntityHandle, requests: AddRequest[]): JobSlots[][] {
    const slots: JobSlots[][] = requests.map(() => []);
    let run: { request: number; job: PendingJob }[] = [];
    const flush = (): void => {
      for (let from = 0; from < run.length; from += ADD_MANY_MAX_JOBS) {
        const part = run.slice(from, from + ADD_MANY_MAX_JOBS);
        if (part.length === 1) {
          slots[part[0].request].push(this.queueJob(sink, entity, part[0].job));
          continue;
        }
        const add = sink.length;
        const args = part.map(({ job }) => this.addArgs(entity, job));
        sink.queue((target) => sendAddMany(target, entity.keys, entity.eventsMaxLen, args));
        part.forEach(({ request, job }, sub) => slots[request].push({ job, add, sub }));
      }
      run = [];
    };
    requests.forEach((request, r) => {
      for (const job of request.jobs) {
        if (!job.delay) {
          run.push({ request: r, job });
          continue;
        }
        flush();
        slots[r].push(this.queueJob(sink, entity, job));
      }
    });
    flush();
    return slots;
  }

  private addArgs(entity: EntityHandle, job: PendingJob): AddManyJobArgs {
    return {
      jobId: job.jobId,
      name: job.name,
      data: job.json,
      opts: entity.storedOpts,
      awaitingPod: job.waiter ? this.ctx.podId : undefined,
      trace: job.trace,
    };
  }

  /**
   * Reads one job's replies: throws the add's error (a refusal, typed); answers its awaiting
   * caller at once when its id was stored and finished already.
   */
  private settle(
    { job, add, sub, await: awaitAt }: JobSlots,
    replies: [Error | null, unknown][],
  ): void {
    const [error, added] = replies[add];
    if (error) throw enqueueError(error, job.entity);
    const raw = sub === undefined ? added : (added as unknown[])[sub];
    const [awaitError, awaitRaw] = awaitAt === undefined ? [null, raw] : replies[awaitAt];
    if (awaitError) throw enqueueError(awaitError, job.entity);
    if (!job.waiter || (job.delay && awaitAt === undefined)) return;
    const reply = decodeJobReply(awaitRaw);
    if (reply.kind === 'completed' || reply.kind === 'failed')
      job.waiter.settle(storedOutcome(job.jobId, reply));
  }

  private withTimeout<T>(entity: EntityHandle, work: Promise<T>): Promise<T> {
    const ms = this.ctx.enqueueTimeoutMs;
    const clock = this.ctx.clock;
    return new Promise<T>((resolve, reject) => {
      const timer = clock.setTimeout(
        () => reject(new EnqueueTimeoutError(entity.type, entity.id, ms)),
        ms,
      );
      work.then(
        (v) => {
          clock.clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clock.clearTimeout(timer);
          reject(enqueueError(e, entity));
        },
      );
    });
  }

  /** Sends one batch of gathered enqueues; settles every request in it. */
  private sendBatch(groups: AddGroup[]): void {
    const redis = this.ctx.redis;
    if (isCluster(redis)) {
      // A Cluster pipeline must stay on one slot: one per entity (its keys share a hash tag).
      for (const group of groups) void this.sendPipeline([group]);
    } else {
      void this.sendPipeline(groups);
    }
  }

  private async sendPipeline(groups: AddGroup[]): Promise<void> {
    // One timer for the whole batch (enqueueTimeout): settling a request twice is a no-op.
    const ms = this.ctx.enqueueTimeoutMs;
    const timer = this.ctx.clock.setTimeout(() => {
      for (const { entity, requests } of groups)
        for (const r of requests) r.reject(new EnqueueTimeoutError(entity.type, entity.id, ms));
    }, ms);
    try {
      await this.sendNow(groups);
    } finally {
      this.ctx.clock.clearTimeout(timer);
    }
  }

  private async sendNow(groups: AddGroup[]): Promise<void> {
    const { redis, keys, claims, runners, clock, leaseTtlMs } = this.ctx;
    const sentAt = clock.now();
    const onCluster = isCluster(redis);
    const sink = this.sink(groups.reduce((sum, group) => sum + group.jobCount, 0));
    // The index entry is written first: see the sweep's removal rule in docs/DESIGN.md.
    const wanted = groups.map((group) => {
      const runner = runners.get(group.entity.ref);
      const local = runner?.acceptsLocalWork() === true;
      return {
        group,
        runner,
        local,
        index: !local && !claims.heldElsewhere(group.entity.ref, sentAt),
      };
    });
    // On a Cluster the index is in another slot than the entities: one call for the whole batch,
    // sent before any job (a lone job goes out at once, not with the pipeline).
    const clusterEntries = onCluster
      ? wanted.filter((w) => w.index).map((w) => [leaseTtlMs, w.group.entity.ref] as const)
      : [];
    const indexed =
      clusterEntries.length > 0 ? touchIndex(redis, keys.indexKey(), '', clusterEntries) : null;
    const plans = wanted.map(({ group, runner, local, index }) => {
      const entity = group.entity;
      if (index && !onCluster) {
        const entry = [[leaseTtlMs, entity.ref]] as const;
        sink.queue((target: ScriptTarget) => sendTouchIndex(target, keys.indexKey(), '', entry));
      }
      const jobs = this.queueJobs(sink, entity, group.requests);
      // Counted at once: the other free entities of this batch see the budget it leaves.
      let claim: PendingClaim | undefined;
      if (!local) {
        const pending = claims.begin(entity, true);
        sink.queue((target) => sendClaim(target, entity.keys, pending.args));
        claim = pending;
      }
      return { group, runner, jobs, claim, claimAt: sink.length - 1 };
    });
    const waitAt = this.queueWait(sink);
    let replies: [Error | null, unknown][];
    try {
      [, replies] = await Promise.all([indexed, sink.exec()]);
    } catch (err) {
      for (const { claim } of plans) if (claim) claims.settle(claim);
      for (const { group } of plans)
        for (const r of group.requests) r.reject(enqueueError(err, group.entity));
      return;
    }
    // The claims' runners start in the same turn (onReply starts them before its await).
    for (const { claim } of plans) if (claim) claims.settle(claim);
    await Promise.all(
      plans.map(async ({ group, runner, jobs, claim, claimAt }) => {
        try {
          if (claim) {
            const [claimError, claimReply] = replies[claimAt];
            if (claimError) throw claimError;
            await claims.onReply(group.entity, decodeClaim(claimReply), claim);
          } else if (runner) {
            await this.afterLocalAdd(group.entity, runner);
          }
        } catch (err) {
          for (const r of group.requests) r.reject(enqueueError(err, group.entity));
          return;
        }
        group.requests.forEach((request, i) => {
          try {
            for (const slots of jobs[i]) this.settle(slots, replies);
            this.checkReplicated(group.entity, replies, waitAt);
            request.resolve();
          } catch (err) {
            request.reject(err);
          }
        });
      }),
    );
  }

  /** Hands jobs just added to the entity's local runner, or claims if it started releasing. */
  private async afterLocalAdd(entity: EntityHandle, runner: EntityRunner): Promise<void> {
    if (runner.acceptsLocalWork()) {
      runner.notify();
      return;
    }
    // The runner started releasing while the jobs were on their way: see how that ended.
    await runner.settled();
    await this.ctx.claims.route(entity);
  }
}
