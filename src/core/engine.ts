import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Job, createRedisBackend } from 'bullmq';
import type { RedisQueueBackend, JobsOptions, QueueBaseOptions, KeyPrefixOptions } from 'bullmq';
import type { ChainableCommander } from 'ioredis';
import {
  EngineStateError,
  EnqueueTimeoutError,
  UnknownEntityTypeError,
  InvalidOptionsError,
  AtomicQueuesError,
} from '../errors';
import { KeyBuilder } from '../redis/keys';
import { defineScripts, runScript } from '../redis/scripts';
import { Connections, Cluster, type RedisClient } from './connections';
import { EntityHandle } from './entity';
import {
  EntityRunner,
  errorMessage,
  type ReplyWithCompletion,
  type RunnerHost,
} from './entity-runner';
import { normalizeEntityId } from './entity-id';
import type { EntityJobHandler } from './job-context';
import {
  resolveLateEntityType,
  resolveOptions,
  type AtomicQueuesOptions,
  type EntityTypeOptions,
  type ResolvedEntityType,
  type ResolvedOptions,
} from './options';
import { checkPayload } from './payload';
import { PodRegistry } from './pod-registry';
import { ReplyRouter, type JobOutcome } from './reply-router';
import { Heartbeat } from './heartbeat';
import { Dispatcher } from './dispatcher';
import { Sweeper } from './sweeper';
import { AddBatcher, addSink, type AddGroup, type PendingJob } from './add-batcher';

/** Options of one enqueue. */
export interface EnqueueOptions {
  /** Your own job id (idempotency key): a second enqueue with the same id is ignored by BullMQ. */
  jobId?: string;
  /** Milliseconds before the job may run. Later jobs of the entity are not held back by it. */
  delay?: number;
}

export interface EnqueueAndWaitOptions extends EnqueueOptions {
  /** Milliseconds to wait for the result. @defaultValue 30000 */
  timeoutMs?: number;
}

/** One entity as `activeEntities()` reports it. */
export interface ActiveEntity {
  entityType: string;
  entityId: string;
  queueName: string;
  workerName: string;
  fencingToken: number;
  state: string;
  since: number;
  jobsProcessed: number;
}

/** Job counts of one entity's queue. */
export interface EntityBacklog {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
  paused: boolean;
}

/** Counters for introspection and benchmarks. */
export interface EngineStats {
  podId: string;
  activeEntities: number;
  claims: number;
  releases: number;
  leasesLost: number;
  jobsCompleted: number;
  jobsFailed: number;
}

const BULK_CHUNK = 500;
const JOB_ID = /^[A-Za-z0-9_.~-]{1,256}$/;
const CLAIMED = 1;
const HELD = 0;
const FREE = 2;

/** A BullMQ script command as defined on an ioredis client or pipeline. */
type Send = (args: unknown[]) => unknown;

function firstId(ids: string[]): string {
  return ids[0];
}

function jobCount(groups: readonly AddGroup[]): number {
  return groups.reduce((sum, group) => sum + group.jobCount, 0);
}

/**
 * The framework-free engine: per-entity sequential execution over BullMQ queues, with leases,
 * fencing tokens and a fixed number of Redis connections per pod. See docs/DESIGN.md.
 *
 * Events: `error` (err, context), `entity:claimed`, `entity:released`, `lease:lost`,
 * `job:completed`, `job:failed`.
 */
export class AtomicEngine extends EventEmitter implements RunnerHost {
  readonly podId: string;
  readonly options: ResolvedOptions;
  readonly keys: KeyBuilder;
  private readonly types = new Map<string, ResolvedEntityType>();
  private readonly handlers = new Map<string, EntityJobHandler>();
  private readonly handles = new Map<string, EntityHandle>();
  private readonly runners = new Map<string, EntityRunner>();
  /** Entities known to be held by a live pod elsewhere, until the given time. */
  private readonly remoteOwners = new Map<string, number>();
  /** Leases being handed back; stop() waits for them before closing the connections. */
  private readonly handingBack = new Set<Promise<void>>();
  private readonly stats = {
    claims: 0,
    releases: 0,
    leasesLost: 0,
    jobsCompleted: 0,
    jobsFailed: 0,
  };
  private connections?: Connections;
  private root?: RedisQueueBackend;
  private registry?: PodRegistry;
  private replies?: ReplyRouter;
  private heartbeat?: Heartbeat;
  private dispatcher?: Dispatcher;
  private sweeper?: Sweeper;
  private state: 'new' | 'starting' | 'started' | 'stopping' | 'stopped' = 'new';
  private tokenSeq = 0;
  /** Claims sent whose reply has not started a runner yet: they count against the fair share. */
  private claimsInFlight = 0;
  private replySeq = 0;
  private readonly addBatcher = new AddBatcher((groups) => this.sendAdds(groups));

  constructor(options: AtomicQueuesOptions) {
    super();
    this.options = resolveOptions(options);
    this.keys = new KeyBuilder(this.options.keyPrefix);
    this.podId =
      this.options.podId ??
      `${hostname().replace(/[^A-Za-z0-9_.]/g, '_')}.${process.pid}.${randomBytes(4).toString('hex')}`;
    for (const [type, config] of this.options.entities) this.types.set(type, config);
    // Background loops report through 'error'; without a listener EventEmitter would throw.
    this.on('error', () => undefined);
  }

  get leaseTtlMs(): number {
    return this.options.heartbeatTtlMs;
  }

  /** Changes when the command connection closed: see {@link Connections.commandEpoch}. */
  get connectionEpoch(): number {
    return this.connections?.commandEpoch ?? 0;
  }

  get command(): RedisClient {
    if (!this.connections)
      throw new EngineStateError('The engine is not started: call start() first');
    return this.connections.command;
  }

  /** Declares an entity type (or changes its settings before start). */
  registerEntityType(type: string, options: EntityTypeOptions = {}): void {
    const merged = { ...this.optionsOf(type), ...options };
    this.types.set(type, resolveLateEntityType(this.options, type, merged));
  }

  /** Sets the function that runs the jobs of an entity type; declares the type if needed. */
  registerHandler(type: string, handler: EntityJobHandler): void {
    if (typeof handler !== 'function')
      throw new InvalidOptionsError(`handler of ${type}`, 'a function', handler);
    if (!this.types.has(type)) this.registerEntityType(type);
    this.handlers.set(type, handler);
  }

  entityTypes(): string[] {
    return [...this.types.keys()];
  }

  entityType(type: string): ResolvedEntityType | undefined {
    return this.types.get(type);
  }

  async start(): Promise<void> {
    if (this.state !== 'new')
      throw new EngineStateError(`start() was already called (state: ${this.state})`);
    this.state = 'starting';
    const o = this.options;
    this.connections = new Connections(o.redis, `${o.keyPrefix}:aq:${this.podId}`, (e, c) =>
      this.reportError(e, c),
    );
    const command = this.connections.command;
    defineScripts(command);
    const rootOpts: QueueBaseOptions & KeyPrefixOptions & { lockDuration: number } = {
      connection: command,
      prefix: o.keyPrefix,
      skipVersionCheck: true,
      // Job locks live as long as leases: the heartbeat renews both together.
      lockDuration: o.heartbeatTtlMs,
    };
    this.root = createRedisBackend('__aq', rootOpts);
    // BullMQ re-emits connection errors (Redis down, restarting) on the backend: report them and
    // keep going (ioredis reconnects by itself); an unheard 'error' event would kill the process.
    this.root.on('error', (err: unknown) => this.reportError(err, 'Redis connection'));
    await this.root.waitUntilReady();
    this.registry = new PodRegistry(
      this.keys.podsKey(),
      this.keys.spawnKey(),
      this.podId,
      o.heartbeatTtlMs + o.heartbeatIntervalMs,
    );
    this.replies = new ReplyRouter(this.connections, this.keys.replyChannel(this.podId), (e, c) =>
      this.reportError(e, c),
    );
    // Started before the loops run, so that their first round already takes work.
    this.state = 'started';
    this.heartbeat = new Heartbeat(this, o.heartbeatIntervalMs);
    this.heartbeat.start();
    if (o.processing) {
      this.dispatcher = new Dispatcher(this, this.connections);
      this.dispatcher.start();
      if (o.sweepEnabled) {
        this.sweeper = new Sweeper(this, o.sweepIntervalMs);
        this.sweeper.start();
      }
    }
  }

  /**
   * Graceful stop: stops taking work, lets each running job finish, releases every lease (handing
   * entities with work to other pods at once) and closes the connections.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping' || this.state === 'new') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    this.sweeper?.stop();
    await this.dispatcher?.stop();
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    await Promise.all([...this.handingBack]);
    await this.heartbeat?.stop();
    try {
      await this.registry?.leave(this.command);
    } catch (err) {
      this.reportError(err, 'leaving the pod registry');
    }
    this.replies?.close();
    await this.connections?.close();
    this.state = 'stopped';
  }

  // ── enqueue ────────────────────────────────────────────────────────────────

  /** Stores a job for an entity; resolves with its id once Redis has it. */
  async enqueue(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts: EnqueueOptions = {},
  ): Promise<string> {
    const job = this.prepare(type, entityId, name, data, opts, opts.jobId);
    return this.add(job);
  }

  /** Enqueues and waits for the handler's result; rejects with the handler's error. */
  async enqueueAndWait(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts: EnqueueAndWaitOptions = {},
  ): Promise<unknown> {
    if (opts.jobId !== undefined)
      throw new InvalidOptionsError(
        'jobId',
        'unset for enqueueAndWait (the engine picks a routable id)',
        opts.jobId,
      );
    this.replySeq += 1;
    const jobId = `aqr.${this.podId}.${this.replySeq.toString(36)}`;
    const job = this.prepare(type, entityId, name, data, opts, jobId);
    const replies = this.requireReplies();
    // Awaited only until the first subscription is up: a burst of calls (the benchmarks' waves
    // make 50,000 at once) should not pay a promise and a turn each for it.
    if (!replies.isReady) await replies.ready();
    const outcome = replies.expect(jobId, opts.timeoutMs ?? 30000, job.entity.type, job.entity.id);
    // The result may arrive (even as a failure) before the enqueue's own reply: a failed enqueue
    // settles the outcome too (forget), so exactly one rejection reaches the caller.
    this.add(job).catch((err: unknown) => replies.forget(jobId, err));
    return outcome;
  }

  /** Enqueues many jobs; resolves with their ids in order. Jobs of one entity keep their order. */
  async enqueueBulk(
    items: ReadonlyArray<{
      type: string;
      entityId: unknown;
      name: string;
      data: unknown;
      opts?: EnqueueOptions;
    }>,
  ): Promise<string[]> {
    const prepared = items.map((i) =>
      this.prepare(i.type, i.entityId, i.name, i.data, i.opts ?? {}, i.opts?.jobId),
    );
    // One entity's jobs go in order, in pipelines of up to BULK_CHUNK; entities in parallel.
    const byEntity = new Map<string, { entity: EntityHandle; slots: number[] }>();
    prepared.forEach(({ entity }, i) => {
      const group = byEntity.get(entity.ref) ?? { entity, slots: [] };
      group.slots.push(i);
      byEntity.set(entity.ref, group);
    });
    const ids: string[] = new Array<string>(items.length);
    await Promise.all(
      [...byEntity.values()].map(async ({ entity, slots }) => {
        for (let start = 0; start < slots.length; start += BULK_CHUNK) {
          const chunk = slots.slice(start, start + BULK_CHUNK);
          const chunkIds = await this.addMany(
            entity,
            chunk.map((i) => prepared[i]),
          );
          chunk.forEach((slot, j) => (ids[slot] = chunkIds[j]));
        }
      }),
    );
    return ids;
  }

  /**
   * Checks one job (name, options, payload) and its entity; `jobId` is the id it will be stored
   * under (the caller's, or one the engine made).
   */
  private prepare(
    type: string,
    entityId: unknown,
    name: string,
    data: unknown,
    opts: EnqueueOptions,
    jobId: string | undefined,
  ): PendingJob {
    if (this.state !== 'started')
      throw new EngineStateError(`Cannot enqueue: the engine is ${this.state}`);
    if (typeof name !== 'string' || name.length === 0 || name.length > 256) {
      throw new InvalidOptionsError(
        'job name',
        'a non-empty string of at most 256 characters',
        name,
      );
    }
    if (
      opts.jobId !== undefined &&
      (typeof opts.jobId !== 'string' ||
        !JOB_ID.test(opts.jobId) ||
        /^\d+$/.test(opts.jobId) ||
        opts.jobId.startsWith('aqr.'))
    ) {
      throw new InvalidOptionsError(
        'jobId',
        'a string of letters, digits, `_.~-`, not only digits, not starting with `aqr.`',
        opts.jobId,
      );
    }
    if (opts.delay !== undefined && !(Number.isInteger(opts.delay) && opts.delay >= 0)) {
      throw new InvalidOptionsError('delay', 'an integer number of ms ≥ 0', opts.delay);
    }
    const json = checkPayload(name, data, this.options.maxPayloadBytes);
    return { entity: this.entity(type, entityId), name, data, json, jobId, delay: opts.delay };
  }

  /** The cached handle of an entity; validates type and id. */
  entity(type: string, entityId: unknown): EntityHandle {
    const config = this.types.get(type);
    if (!config) throw new UnknownEntityTypeError(String(type), [...this.types.keys()]);
    const id = normalizeEntityId(type, entityId);
    const ref = EntityHandle.ref(type, id);
    let handle = this.handles.get(ref);
    if (!handle) {
      if (!this.root) throw new EngineStateError('The engine is not started: call start() first');
      const queueName = config.queueName
        ? this.keys.customQueueName(String(config.queueName(id)))
        : this.keys.defaultQueueName(type, id);
      handle = new EntityHandle(
        config,
        id,
        queueName,
        this.keys,
        this.root,
        this.options.heartbeatTtlMs,
      );
      if (this.handles.size >= 200_000) this.evictHandles();
      this.handles.set(ref, handle);
    }
    return handle;
  }

  private evictHandles(): void {
    for (const ref of this.handles.keys()) if (!this.runners.has(ref)) this.handles.delete(ref);
  }

  private withTimeout<T>(entity: EntityHandle, work: Promise<T>): Promise<T> {
    const ms = this.options.enqueueTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new EnqueueTimeoutError(entity.type, entity.id, ms)),
        ms,
      );
      work.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  /**
   * Sends one job's add on `target` (a connection or a pipeline, synchronously). Jobs neither
   * delayed nor prioritized go through the engine's add script (see add-6.lua), delayed ones
   * through BullMQ's addDelayedJob; both write BullMQ's layout.
   */
  private sendAdd(
    target: RedisClient | ChainableCommander,
    entity: EntityHandle,
    job: PendingJob,
  ): Promise<unknown> {
    const { name, jobId } = job;
    if (job.delay) {
      const jobOpts: JobsOptions = {
        removeOnComplete: entity.config.removeOnComplete,
        removeOnFail: entity.config.removeOnFail,
        delay: job.delay,
      };
      if (jobId !== undefined) jobOpts.jobId = jobId;
      const backend = entity.backend as RedisQueueBackend;
      const delayed = new Job(entity.queue, name, job.data, jobOpts, jobId);
      // BullMQ queues its script through `runCommand`, synchronously.
      const bullTarget = {
        runCommand(command: string, args: unknown[]) {
          (target as unknown as Record<string, Send>)[command](args);
          return bullTarget;
        },
      };
      return backend.addJobToTransaction(
        bullTarget as never,
        delayed.asJSON(),
        delayed.id as string,
      );
    }
    return runScript(target, 'add', entity.addKeys, [
      entity.jobKeyPrefix,
      jobId ?? '',
      name,
      Date.now(),
      job.json,
      entity.storedOpts(jobId),
    ]);
  }

  /** One job's enqueue, once checked. */
  private add(job: PendingJob): Promise<string> {
    return this.addMany(job.entity, [job]).then(firstId);
  }

  /**
   * The enqueue path, for one or more jobs of one entity (kept in order).
   * - Hot: this pod runs the entity. Add the job (one round trip) and hand it over in memory.
   * - Otherwise the jobs join the turn's batch (see {@link AddBatcher}): in one pipeline, per
   *   entity, the jobs are added and then the claim script runs, in that order on the entity's
   *   slot: the entity is claimed here if free, its idle owner is woken, or it is offered to the
   *   processing pods through the spawn set.
   */
  private async addMany(entity: EntityHandle, jobs: ReadonlyArray<PendingJob>): Promise<string[]> {
    const runner = this.runners.get(entity.ref);
    if (runner?.acceptsLocalWork() === true && jobs.length === 1) {
      // Hot path: one command, no pipeline (building one copies every script definition).
      return this.withTimeout(entity, this.addHot(entity, jobs[0], runner));
    }
    return this.addBatcher.add(entity, jobs);
  }

  private async addHot(
    entity: EntityHandle,
    job: PendingJob,
    runner: EntityRunner,
  ): Promise<string[]> {
    const jobId = String(await this.sendAdd(this.command, entity, job));
    await this.afterLocalAdd(entity, runner);
    return [jobId];
  }

  /** Sends one batch of gathered enqueues; settles every request in it. */
  private sendAdds(groups: AddGroup[]): void {
    let command: RedisClient;
    try {
      command = this.command;
    } catch (err) {
      for (const group of groups) for (const r of group.requests) r.reject(err);
      return;
    }
    if (command instanceof Cluster) {
      // A Cluster pipeline must stay on one slot: one per entity (its keys share a hash tag).
      for (const group of groups) void this.sendAddPipeline(command, [group]);
    } else {
      void this.sendAddPipeline(command, groups);
    }
  }

  private async sendAddPipeline(command: RedisClient, groups: AddGroup[]): Promise<void> {
    // One timer for the whole batch (enqueueTimeout): settling a request twice is a no-op.
    const ms = this.options.enqueueTimeoutMs;
    const timer = setTimeout(() => {
      for (const { entity, requests } of groups)
        for (const r of requests) r.reject(new EnqueueTimeoutError(entity.type, entity.id, ms));
    }, ms);
    try {
      await this.sendAddsNow(command, groups);
    } finally {
      clearTimeout(timer);
    }
  }

  private async sendAddsNow(command: RedisClient, groups: AddGroup[]): Promise<void> {
    const sentAt = Date.now();
    const isCluster = command instanceof Cluster;
    const sink = addSink(command, jobCount(groups));
    const sideCommands: Promise<unknown>[] = [];
    const plans = groups.map((group) => {
      const entity = group.entity;
      const runner = this.runners.get(entity.ref);
      const local = runner?.acceptsLocalWork() === true;
      const index = !local && (this.remoteOwners.get(entity.ref) ?? 0) <= sentAt;
      const indexArgs = [this.keys.indexKey(), sentAt + this.leaseTtlMs, entity.ref] as const;
      // The index entry is written first: see the sweep's removal rule in docs/DESIGN.md.
      if (index && !isCluster) sink.queue((target) => target.zadd(...indexArgs));
      else if (index) sideCommands.push(command.zadd(...indexArgs));
      const firstAdd = sink.length;
      for (const request of group.requests)
        for (const job of request.jobs) sink.queue((target) => this.sendAdd(target, entity, job));
      let claimArgs: (string | number)[] | undefined;
      // Counted at once: the other free entities of this batch see the budget it leaves.
      const claiming = !local && this.canClaimHere();
      if (claiming) this.claimsInFlight += 1;
      if (!local) {
        const args = this.claimArgs(entity, claiming ? 'claim' : 'probe');
        sink.queue((target) => runScript(target, 'claim', entity.claimKeys(), args));
        claimArgs = args;
      }
      return { group, runner, firstAdd, claimArgs, claimAt: sink.length - 1, claiming };
    });
    const claimsSent = plans.filter((p) => p.claiming).length;
    let replies: [Error | null, unknown][];
    try {
      [, replies] = await Promise.all([Promise.all(sideCommands), sink.exec()]);
    } catch (err) {
      this.claimsInFlight -= claimsSent;
      for (const { group } of plans) for (const r of group.requests) r.reject(err);
      return;
    }
    // The claims' runners start in the same turn (onClaimReply starts them before its await).
    this.claimsInFlight -= claimsSent;
    await Promise.all(
      plans.map(async ({ group, runner, firstAdd, claimArgs, claimAt }) => {
        try {
          if (claimArgs) {
            const [claimError, claimReply] = replies[claimAt];
            if (claimError) throw claimError;
            await this.onClaimReply(
              group.entity,
              claimReply as unknown[],
              sentAt,
              String(claimArgs[0]),
            );
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
                throw new AtomicQueuesError(
                  'ENQUEUE_FAILED',
                  `BullMQ refused the job (code ${raw})`,
                );
              return String(raw);
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
    await this.routeAfterAdd(entity);
  }

  /** After a local runner released an entity while a job was being added: make sure someone runs it. */
  private async routeAfterAdd(
    entity: EntityHandle,
    mode: 'claim' | 'claim-if-work' = 'claim',
  ): Promise<void> {
    const runner = this.runners.get(entity.ref);
    if (runner?.acceptsLocalWork()) {
      runner.notify();
      return;
    }
    const sentAt = Date.now();
    const claiming = this.canClaimHere();
    const args = this.claimArgs(entity, claiming ? mode : 'probe');
    if (claiming) this.claimsInFlight += 1;
    let reply: unknown[];
    try {
      reply = (await runScript(this.command, 'claim', entity.claimKeys(), args)) as unknown[];
    } finally {
      if (claiming) this.claimsInFlight -= 1;
    }
    await this.onClaimReply(entity, reply, sentAt, String(args[0]));
  }

  claimArgs(entity: EntityHandle, mode: 'claim' | 'claim-if-work' | 'probe'): (string | number)[] {
    this.tokenSeq += 1;
    const token = `${this.podId}:${this.tokenSeq.toString(36)}`;
    return [
      token,
      this.podId,
      this.leaseTtlMs,
      entity.jobKeyPrefix,
      entity.config.maxStalledCount,
      mode,
      entity.config.maxWorkersPerEntity,
      // Off Cluster the claim script wakes an idle holder itself (see claim-10.lua).
      this.command instanceof Cluster ? '' : this.keys.wakeKey(''),
      entity.ref,
      Date.now(),
    ];
  }

  /** Whether this pod should claim a free entity itself rather than offer it to other pods. */
  canClaimHere(): boolean {
    return this.claimBudget() > 0;
  }

  /** Whether the dispatcher should take entities offered in the spawn set right now. */
  watchesSpawns(): boolean {
    if (!this.options.processing || this.state !== 'started') return false;
    return this.claimBudget() > 0 || this.registry?.warmingUp() === true;
  }

  /** Re-reads the live pods and their loads (also done by every heartbeat). */
  async refreshPodRegistry(): Promise<void> {
    await this.registry?.beat(this.command, this.runners.size, this.options.processing);
  }

  /** How many more free entities this pod may claim now without going past its fair share. */
  claimBudget(): number {
    if (!this.options.processing || this.state !== 'started') return 0;
    return this.registry?.claimBudget(this.runners.size + this.claimsInFlight) ?? 1;
  }

  /** Acts on a claim script reply: start a runner, wake the owner, or offer the entity. */
  async onClaimReply(
    entity: EntityHandle,
    reply: unknown[],
    sentAt: number,
    token: string,
  ): Promise<void> {
    const code = Number(reply[0]);
    if (code === CLAIMED) {
      this.startRunner(
        entity,
        entity.leaseKeyOf(Number(reply[3])),
        token,
        Number(reply[1]),
        sentAt,
      );
      const runner = this.runners.get(entity.ref);
      if (runner) runner.indexScore = sentAt + this.leaseTtlMs;
      await this.command.zadd(this.keys.indexKey(), sentAt + this.leaseTtlMs, entity.ref);
      return;
    }
    if (code === HELD) {
      const pod = String(reply[1]);
      if (pod === this.podId) {
        this.runners.get(entity.ref)?.notify();
        return;
      }
      this.remoteOwners.set(entity.ref, Date.now() + this.leaseTtlMs / 2);
      if (this.remoteOwners.size > 100_000) this.remoteOwners.clear();
      if (Number(reply[2]) === 1)
        await this.command.zadd(this.keys.wakeKey(pod), 'NX', Date.now(), entity.ref);
      return;
    }
    if (code === FREE) {
      this.remoteOwners.delete(entity.ref);
      await this.command.zadd(this.keys.spawnKey(), 'NX', Date.now(), entity.ref);
    }
  }

  /** Claims a free entity that has work (spawn signal or sweep); true when this pod got it. */
  async claimIfWork(entity: EntityHandle): Promise<boolean> {
    if (this.runners.has(entity.ref) || this.state !== 'started') return false;
    const args = this.claimArgs(entity, 'claim-if-work');
    const sentAt = Date.now();
    const reply = (await runScript(this.command, 'claim', entity.claimKeys(), args)) as unknown[];
    await this.onClaimReply(entity, reply, sentAt, String(args[0]));
    return Number(reply[0]) === CLAIMED;
  }

  private startRunner(
    entity: EntityHandle,
    leaseKey: string,
    token: string,
    fence: number,
    sentAt: number,
  ): void {
    const runner = new EntityRunner(entity, leaseKey, token, fence, sentAt, this);
    this.runners.set(entity.ref, runner);
    this.remoteOwners.delete(entity.ref);
    this.stats.claims += 1;
    this.emit('entity:claimed', {
      entityType: entity.type,
      entityId: entity.id,
      fencingToken: fence,
    });
    runner.start();
  }

  // ── RunnerHost ─────────────────────────────────────────────────────────────

  handlerFor(type: string): EntityJobHandler {
    const handler = this.handlers.get(type);
    if (!handler)
      throw new AtomicQueuesError(
        'NO_HANDLER',
        `No handler is registered for entity type \`${type}\` on pod ${this.podId}`,
      );
    return handler;
  }

  renewLease(runner: EntityRunner): Promise<boolean> {
    if (!this.heartbeat) return Promise.resolve(false);
    return this.heartbeat.renewOne(runner);
  }

  /** See {@link RunnerHost.jobsRunning}. */
  jobsRunning = 0;

  /**
   * A remotely awaited result rides with its complete (one round trip sooner) only while this is
   * the pod's one running job. Under load, results finished in one turn go out together, one
   * PUBLISH per awaiting pod, which costs Redis and the awaiting pods less than one per job.
   */
  replyWithCompletion(job: Job, value: unknown): ReplyWithCompletion | undefined {
    const jobId = job.id;
    if (this.jobsRunning !== 1 || !jobId?.startsWith('aqr.') || !this.replies) return undefined;
    if (this.replies.awaits(jobId)) return undefined; // settled in memory instead
    let returnValue: string;
    try {
      // As BullMQ stores it: JSON, and 'null' for what JSON can't represent at the top level.
      returnValue = JSON.stringify(value) ?? 'null';
    } catch {
      return undefined;
    }
    const outcome: JobOutcome = { jobId, status: 'completed', value };
    return { returnValue, ...ReplyRouter.publication(this.keys, outcome) };
  }

  jobFinished(
    runner: EntityRunner,
    job: Job,
    status: 'completed' | 'failed',
    value: unknown,
    replied = false,
  ): void {
    if (status === 'completed') this.stats.jobsCompleted += 1;
    else this.stats.jobsFailed += 1;
    const event = {
      entityType: runner.entity.type,
      entityId: runner.entity.id,
      jobId: job.id,
      name: job.name,
      fencingToken: runner.fencingToken,
    };
    // The awaiting caller first: event listeners may be slow, or write to a socket themselves.
    if (job.id?.startsWith('aqr.') && !replied) {
      const outcome: JobOutcome =
        status === 'completed'
          ? { jobId: job.id, status, value }
          : {
              jobId: job.id,
              status,
              error: {
                name: value instanceof Error ? value.name : 'Error',
                message: errorMessage(value),
              },
            };
      // Awaited on this pod: settle in memory; elsewhere: publish on that pod's channel.
      if (!this.replies?.settleLocal(outcome)) this.replies?.send(this.command, this.keys, outcome);
    }
    this.emit(
      `job:${status}`,
      status === 'completed' ? { ...event, result: value } : { ...event, error: value },
    );
  }

  runnerClosed(
    runner: EntityRunner,
    reason: 'released' | 'lost' | 'stopped' | 'error',
    error?: unknown,
  ): void {
    if (this.runners.get(runner.entity.ref) === runner) this.runners.delete(runner.entity.ref);
    const info = {
      entityType: runner.entity.type,
      entityId: runner.entity.id,
      fencingToken: runner.fencingToken,
      reason,
    };
    if (reason === 'released') {
      this.stats.releases += 1;
      this.emit('entity:released', info);
      // The queue was empty: drop the sweep-index entry now (one command) rather than leave it
      // to the sweep (about ten). Only if nobody touched it since: an enqueue keeps it.
      this.track(
        runScript(
          this.command,
          'unindex',
          [this.keys.indexKey()],
          [runner.entity.ref, String(runner.indexScore)],
        ).then(() => undefined),
        'dropping a released entity from the index',
      );
      return;
    }
    if (reason === 'lost') {
      this.stats.leasesLost += 1;
      this.emit('lease:lost', info);
      return;
    }
    if (reason === 'error')
      this.reportError(error, `running ${runner.entity.type} ${runner.entity.id}`);
    // Stopped or crashed with the lease still ours: hand it back so another pod takes over now.
    this.track(this.relinquish(runner), 'releasing a lease');
  }

  /** Runs background Redis work that stop() must wait for; reports its failure. */
  private track(work: Promise<void>, context: string): void {
    const tracked: Promise<void> = work
      .catch((err: unknown) => this.reportError(err, context))
      .finally(() => this.handingBack.delete(tracked));
    this.handingBack.add(tracked);
  }

  private async relinquish(runner: EntityRunner): Promise<void> {
    const result = Number(
      await runScript(this.command, 'relinquish', runner.entity.stateKeys(runner.leaseKey), [
        runner.token,
      ]),
    );
    if (result < 0) return; // the lease had already moved on: nothing of ours to hand back
    this.emit('entity:released', {
      entityType: runner.entity.type,
      entityId: runner.entity.id,
      fencingToken: runner.fencingToken,
      reason: 'stopped',
    });
    if (result === 1)
      await this.command.zadd(this.keys.spawnKey(), 'NX', Date.now(), runner.entity.ref);
  }

  reportError(error: unknown, context: string): void {
    this.emit('error', error instanceof Error ? error : new Error(String(error)), context);
  }

  // ── entity operations ──────────────────────────────────────────────────────

  /** Job counts of one entity's queue. */
  async getBacklog(type: string, entityId: unknown): Promise<EntityBacklog> {
    const entity = this.entity(type, entityId);
    const states = ['wait', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;
    const [counts, paused] = await Promise.all([
      entity.backend.getCounts([...states]),
      entity.backend.hasQueueMetaField('paused'),
    ]);
    const [waiting, active, delayed, prioritized, failed, completed] = counts.map(Number);
    return {
      waiting: (waiting ?? 0) + (prioritized ?? 0),
      active: active ?? 0,
      delayed: delayed ?? 0,
      failed: failed ?? 0,
      completed: completed ?? 0,
      paused,
    };
  }

  /**
   * Entities the cluster knows of (held, or with work waiting for a holder), with the pod holding
   * each (`null` when none does right now). Reads the sweep index: cost grows with its size.
   */
  async listEntities(
    limit = 10_000,
  ): Promise<{ entityType: string; entityId: string; pod: string | null }[]> {
    const refs = await this.command.zrange(this.keys.indexKey(), 0, limit - 1);
    const known = refs
      .map((ref) => this.entityFromRef(ref))
      .filter((e): e is EntityHandle => e !== undefined);
    const command = this.command;
    let owners: (string | null)[];
    if (command instanceof Cluster) {
      // The leases sit in as many slots as there are entities: a Cluster pipeline can't mix
      // slots, so one command each, all in flight at once.
      owners = await Promise.all(known.map((e) => command.hget(e.leaseKey, 'p')));
    } else {
      const pipeline = command.pipeline();
      for (const e of known) pipeline.hget(e.leaseKey, 'p');
      owners = ((await pipeline.exec()) ?? []).map(([, pod]) => (pod as string | null) ?? null);
    }
    return known.map((e, i) => ({ entityType: e.type, entityId: e.id, pod: owners[i] ?? null }));
  }

  /** Stops running an entity's jobs after the current one; new jobs are still accepted. */
  async pauseEntity(type: string, entityId: unknown): Promise<void> {
    const entity = this.entity(type, entityId);
    await entity.backend.pause(true);
    this.runners.get(entity.ref)?.notify();
  }

  /** Resumes a paused entity; its waiting jobs are picked up at once. */
  async resumeEntity(type: string, entityId: unknown): Promise<void> {
    const entity = this.entity(type, entityId);
    await entity.backend.pause(false);
    await this.routeAfterAdd(entity, 'claim-if-work');
  }

  /** Removes an entity's waiting (and, with `delayed`, delayed) jobs. Running jobs finish. */
  async drainEntity(
    type: string,
    entityId: unknown,
    opts: { delayed?: boolean } = {},
  ): Promise<void> {
    const entity = this.entity(type, entityId);
    await entity.backend.drain(opts.delayed ?? false);
  }

  // ── introspection ──────────────────────────────────────────────────────────

  ownedRunners(): EntityRunner[] {
    return [...this.runners.values()];
  }

  runnerFor(ref: string): EntityRunner | undefined {
    return this.runners.get(ref);
  }

  /** Handle of an entity named by its ref (spawn/wake/index member), if its type is known here. */
  entityFromRef(ref: string): EntityHandle | undefined {
    const known = this.handles.get(ref);
    if (known) return known;
    const parsed = EntityHandle.parseRef(ref);
    if (!parsed || !this.types.has(parsed[0])) return undefined;
    try {
      return this.entity(parsed[0], parsed[1]);
    } catch {
      return undefined;
    }
  }

  activeEntities(): ActiveEntity[] {
    return this.ownedRunners().map((r) => ({
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

  getStats(): EngineStats {
    return { podId: this.podId, activeEntities: this.runners.size, ...this.stats };
  }

  isStarted(): boolean {
    return this.state === 'started';
  }

  private optionsOf(type: string): EntityTypeOptions {
    const t = this.types.get(type);
    if (!t) return {};
    return {
      queueName: t.queueName,
      workerName: t.workerName,
      maxWorkersPerEntity: t.maxWorkersPerEntity,
      idleTimeoutSeconds: t.idleTimeoutMs / 1000,
      defaultEntityId: t.defaultEntityId,
      workerConfig: { concurrency: t.concurrency },
      attempts: t.attempts,
      backoff: t.backoff,
      onFailure: t.onFailure,
      maxStalledCount: t.maxStalledCount,
      removeOnComplete: t.removeOnComplete,
      removeOnFail: t.removeOnFail,
    };
  }

  private requireReplies(): ReplyRouter {
    if (!this.replies) throw new EngineStateError('The engine is not started: call start() first');
    return this.replies;
  }
}
