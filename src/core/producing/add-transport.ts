import { EnqueueFailedError, EnqueueTimeoutError } from '../../errors';
import { Cluster, type RedisClient } from '../../redis/connections';
import type { KeyBuilder } from '../../redis/keys';
import { decodeAdd, sendAdd } from '../../redis/scripts/add';
import { decodeClaim, sendClaim } from '../../redis/scripts/claim';
import type { ScriptTarget } from '../../redis/script-loader';
import type { Clock } from '../clock';
import type { EntityHandle } from '../entities/entity';
import type { Claims, PendingClaim } from '../placement/claims';
import type { EntityRunner } from '../running/entity-runner';
import type { RunnerRegistry } from '../running/runner-registry';
import { AddBatcher, addSink, type AddGroup, type PendingJob } from './add-batcher';

/** What sending enqueues needs from the pod. */
export interface AddTransportContext {
  readonly redis: RedisClient;
  readonly keys: KeyBuilder;
  readonly clock: Clock;
  readonly leaseTtlMs: number;
  readonly enqueueTimeoutMs: number;
  readonly runners: RunnerRegistry;
  readonly claims: Claims;
}

/**
 * Gets checked jobs into Redis and makes sure someone runs them.
 * - Hot: this pod runs the entity. Add the job (one round trip) and hand it over in memory.
 * - Otherwise the jobs join the turn's batch (see {@link AddBatcher}): in one pipeline, per
 *   entity, the jobs are added and then the claim script runs, in that order on the entity's
 *   slot: the entity is claimed here if free, its idle owner is woken, or it is offered to the
 *   processing pods through the spawn set.
 */
export class AddTransport {
  private readonly batcher = new AddBatcher((groups) => this.sendBatch(groups));

  constructor(private readonly ctx: AddTransportContext) {}

  /** Adds one or more jobs of one entity, in order; resolves with their ids. */
  async add(entity: EntityHandle, jobs: ReadonlyArray<PendingJob>): Promise<string[]> {
    const runner = this.ctx.runners.get(entity.ref);
    if (runner?.acceptsLocalWork() === true && jobs.length === 1) {
      // Hot path: one command, no pipeline (building one copies every script definition).
      return this.withTimeout(entity, this.addHot(entity, jobs[0], runner));
    }
    return this.batcher.add(entity, jobs);
  }

  private async addHot(
    entity: EntityHandle,
    job: PendingJob,
    runner: EntityRunner,
  ): Promise<string[]> {
    const jobId = decodeAdd(await this.sendJob(this.ctx.redis, entity, job));
    await this.afterLocalAdd(entity, runner);
    return [jobId];
  }

  /**
   * Sends one job's add on `target` (a connection or a pipeline, synchronously). Jobs neither
   * delayed nor prioritized go through the engine's add script (see add-6.lua), delayed ones
   * through BullMQ's addDelayedJob; both write BullMQ's layout.
   */
  private sendJob(target: ScriptTarget, entity: EntityHandle, job: PendingJob): Promise<unknown> {
    if (job.delay) {
      return entity.queue.sendDelayedAdd(
        target,
        { name: job.name, data: job.data, jobId: job.jobId, delay: job.delay },
        {
          removeOnComplete: entity.config.removeOnComplete,
          removeOnFail: entity.config.removeOnFail,
        },
      );
    }
    return sendAdd(target, entity.keys, {
      jobId: job.jobId,
      name: job.name,
      timestamp: this.ctx.clock.now(),
      data: job.json,
      opts: entity.storedOpts(job.jobId),
    });
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
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  /** Sends one batch of gathered enqueues; settles every request in it. */
  private sendBatch(groups: AddGroup[]): void {
    const redis = this.ctx.redis;
    if (redis instanceof Cluster) {
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
    const isCluster = redis instanceof Cluster;
    const sink = addSink(
      redis,
      groups.reduce((sum, group) => sum + group.jobCount, 0),
    );
    const sideCommands: Promise<unknown>[] = [];
    const plans = groups.map((group) => {
      const entity = group.entity;
      const runner = runners.get(entity.ref);
      const local = runner?.acceptsLocalWork() === true;
      const index = !local && !claims.heldElsewhere(entity.ref, sentAt);
      const indexArgs = [keys.indexKey(), sentAt + leaseTtlMs, entity.ref] as const;
      // The index entry is written first: see the sweep's removal rule in docs/DESIGN.md.
      if (index && !isCluster) sink.queue((target) => target.zadd(...indexArgs));
      else if (index) sideCommands.push(redis.zadd(...indexArgs));
      const firstAdd = sink.length;
      for (const request of group.requests)
        for (const job of request.jobs) sink.queue((target) => this.sendJob(target, entity, job));
      // Counted at once: the other free entities of this batch see the budget it leaves.
      let claim: PendingClaim | undefined;
      if (!local) {
        const pending = claims.begin(entity, true);
        sink.queue((target) => sendClaim(target, entity.keys, pending.args));
        claim = pending;
      }
      return { group, runner, firstAdd, claim, claimAt: sink.length - 1 };
    });
    let replies: [Error | null, unknown][];
    try {
      [, replies] = await Promise.all([Promise.all(sideCommands), sink.exec()]);
    } catch (err) {
      for (const { claim } of plans) if (claim) claims.settle(claim);
      for (const { group } of plans) for (const r of group.requests) r.reject(err);
      return;
    }
    // The claims' runners start in the same turn (onReply starts them before its await).
    for (const { claim } of plans) if (claim) claims.settle(claim);
    await Promise.all(
      plans.map(async ({ group, runner, firstAdd, claim, claimAt }) => {
        try {
          if (claim) {
            const [claimError, claimReply] = replies[claimAt];
            if (claimError) throw claimError;
            await claims.onReply(group.entity, decodeClaim(claimReply), claim);
          } else if (runner) {
            await this.afterLocalAdd(group.entity, runner);
          }
        } catch (err) {
          for (const r of group.requests) r.reject(err);
          return;
        }
        let at = firstAdd;
        for (const request of group.requests) {
          try {
            const ids = replies.slice(at, at + request.jobs.length).map(([err, raw]) => {
              if (err) throw err;
              if (typeof raw === 'number' && raw < 0)
                throw new EnqueueFailedError(
                  group.entity.type,
                  group.entity.id,
                  `BullMQ refused the job (code ${raw})`,
                );
              return decodeAdd(raw);
            });
            request.resolve(ids);
          } catch (err) {
            request.reject(err);
          }
          at += request.jobs.length;
        }
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
