import { createRedisBackend } from 'bullmq';
import type { KeyPrefixOptions, QueueBaseOptions, RedisQueueBackend } from 'bullmq';
import { Connections } from '../redis/connections';
import { startupPermissionError } from '../redis/first-connect';
import type { KeyBuilder } from '../redis/keys';
import { pingWithin } from '../redis/ping';
import { defineScripts } from '../redis/script-loader';
import { EntityAdmin } from './admin/entity-admin';
import { EntityScan } from './admin/entity-scan';
import { FailedIndex } from './admin/failed-index';
import { FailedJobs } from './admin/failed-jobs';
import type { Clock } from './clock';
import type { EntityCatalog } from './entities/entity-catalog';
import type { EventSink } from './events';
import type { PodProbe } from './observability/health';
import type { JobTracing } from './observability/job-tracing';
import type { ResolvedOptions } from './options/resolved-options';
import { Claims } from './placement/claims';
import { CronManager } from './placement/cron-manager';
import { Dispatcher } from './placement/dispatcher';
import { PodRegistry } from './placement/pod-registry';
import { Rebalancer } from './placement/rebalancer';
import { AddTransport } from './producing/add-transport';
import { Producer } from './producing/producer';
import { ReplySender } from './replies/reply-sender';
import { ReplyWaiters } from './replies/reply-waiters';
import { Heartbeat } from './running/heartbeat';
import { RunnerRegistry } from './running/runner-registry';

/** What a pod is made from: the engine's settings and the parts that outlive a start. */
export interface PodSetup {
  readonly podId: string;
  readonly options: ResolvedOptions;
  readonly keys: KeyBuilder;
  readonly clock: Clock;
  readonly catalog: EntityCatalog;
  readonly events: EventSink;
  /** Spans and trace context, when `@opentelemetry/api` is installed. */
  readonly tracing?: JobTracing;
  report(error: unknown, context: string): void;
  /** The engine's lifecycle state (`started` while it takes work). */
  state(): string;
}

/**
 * One started engine: its Redis connections and its parts, each owning its own state and
 * wired to the others through narrow contexts. Built by `AtomicEngine.start()`, closed by
 * `stop()`.
 */
export class Pod {
  readonly runners: RunnerRegistry;
  readonly claims: Claims;
  readonly producer: Producer;
  readonly admin: EntityAdmin;
  readonly failedJobs: FailedJobs;
  readonly scan: EntityScan;
  private readonly registry: PodRegistry;
  private readonly waiters: ReplyWaiters;
  private readonly heartbeat: Heartbeat;
  private readonly dispatcher?: Dispatcher;
  private readonly cron?: CronManager;
  private readonly rebalancer?: Rebalancer;

  private constructor(
    private readonly setup: PodSetup,
    private readonly connections: Connections,
  ) {
    const { podId, options: o, keys, clock, catalog, events, tracing } = setup;
    const report = (error: unknown, context: string): void => setup.report(error, context);
    const redis = connections.command;
    const isStarted = (): boolean => setup.state() === 'started';
    const leaseTtlMs = o.heartbeatTtlMs;
    // Entities being handed over count as gone already: the pods that will claim them must not
    // count them twice (here and in the spawn set).
    const refreshRegistry = (): Promise<void> =>
      this.registry.beat(redis, this.runners.staying(), o.processing);

    this.waiters = new ReplyWaiters(connections, keys.replyChannel(podId), report, clock, (job) =>
      this.producer.storedOutcome(job),
    );
    const replies = new ReplySender(redis, keys, podId, this.waiters, report);
    // An entity that keeps failed jobs (or is paused) is looked at this often, by its idle holder
    // or in the rest set: a job a BullMQ tool puts back runs within a lease TTL and a sweep.
    const watchMs = leaseTtlMs;
    const failedIndex = new FailedIndex(redis, keys);
    this.runners = new RunnerRegistry({
      podId,
      redis,
      clock,
      keys,
      leaseTtlMs,
      get connectionEpoch() {
        return connections.commandEpoch;
      },
      events,
      replies,
      reroute: (entity) => this.claims.route(entity, 'claim-if-work'),
      watchMs,
      failedIndex,
      handlerFor: tracing
        ? (type) => tracing.wrap(catalog.handlerFor(type))
        : (type) => catalog.handlerFor(type),
      renewLease: (runner) => this.heartbeat.renewOne(runner),
      report,
    });
    this.registry = new PodRegistry(
      keys.podsKey(),
      keys.spawnKey(),
      podId,
      leaseTtlMs + o.heartbeatIntervalMs,
      clock,
      leaseTtlMs,
    );
    const runners = this.runners;
    const registry = this.registry;
    this.claims = new Claims({
      podId,
      redis,
      clock,
      keys,
      leaseTtlMs,
      processing: o.processing,
      runners,
      registry,
      isStarted,
      giving: () => this.rebalancer?.giving() === true,
    });
    const claims = this.claims;
    const transport = new AddTransport({
      podId,
      redis,
      keys,
      clock,
      leaseTtlMs,
      enqueueTimeoutMs: o.enqueueTimeoutMs,
      durability: o.durability,
      runners,
      claims,
      redisNow: () => registry.redisNow(),
    });
    this.producer = new Producer({
      podId,
      redis,
      maxPayloadBytes: o.maxPayloadBytes,
      catalog,
      transport,
      waiters: this.waiters,
      tracing,
      state: () => setup.state(),
    });
    this.admin = new EntityAdmin({ redis, keys, catalog, runners, claims });
    this.scan = new EntityScan({ redis, keys, catalog });
    this.failedJobs = new FailedJobs({
      redis,
      catalog,
      claims,
      replies,
      failedIndex,
      resume: (type, id) => this.admin.resume(type, id),
    });
    this.heartbeat = new Heartbeat(
      {
        podId,
        redis,
        clock,
        leaseTtlMs,
        indexKey: keys.indexKey(),
        runners: () => runners.all(),
        refreshRegistry: async () => {
          await refreshRegistry();
          // After handing entities over, tell the others at once what this pod keeps.
          if (isStarted() && (this.rebalancer?.round() ?? 0) > 0) await refreshRegistry();
        },
        report,
      },
      o.heartbeatIntervalMs,
    );
    if (o.processing && o.rebalance.enabled) {
      this.rebalancer = new Rebalancer({
        clock,
        runners,
        registry,
        settings: o.rebalance,
        claimBudget: () => this.claims.budget(),
        settleMs: leaseTtlMs + o.heartbeatIntervalMs,
      });
    }
    if (o.processing) {
      const entityFromRef = (ref: string) => catalog.fromRef(ref);
      this.dispatcher = new Dispatcher({
        podId,
        redis,
        connections,
        keys,
        clock,
        claims,
        runners,
        entityFromRef,
        refreshRegistry,
        redisNow: () => registry.redisNow(),
        spawnGraceMs: Math.max(250, o.heartbeatIntervalMs / 4),
        report,
      });
      if (o.enableCronManager) {
        this.cron = new CronManager(
          {
            redis,
            keys,
            clock,
            leaseTtlMs,
            watchMs,
            claims,
            runners,
            failedIndex,
            recovering: () => registry.recovering(),
            entityFromRef,
            report,
          },
          o.cronIntervalMs,
        );
      }
    }
  }

  /**
   * Connects to Redis and builds the parts; the loops start with {@link startLoops}. Bounded by
   * `startTimeoutMs` (RedisConnectionError); on failure, closes everything it opened.
   */
  static async open(setup: PodSetup): Promise<Pod> {
    const { options: o, events } = setup;
    const connections = new Connections(
      o.redis,
      `${o.keyPrefix}:aq:${setup.podId}`,
      {
        lost: ({ reason, description }, target) =>
          events.emit('redis:lost', { target, reason, message: description }),
        restored: (downtimeMs, target) => events.emit('redis:restored', { target, downtimeMs }),
        error: (error, context) => setup.report(error, context),
      },
      () => setup.clock.now(),
    );
    let root: RedisQueueBackend | undefined;
    try {
      const backend = (root = Pod.backend(setup, connections.command));
      await connections.start(o.startTimeoutMs, () => backend.waitUntilReady());
      setup.catalog.attach(backend);
      const pod = new Pod(setup, connections);
      // One beat before the first enqueue: the pod is in the registry and knows Redis's clock.
      await pod.registry.beat(connections.command, 0, o.processing);
      return pod;
    } catch (err) {
      await root?.close().catch(() => undefined);
      await connections.close();
      throw startupPermissionError(connections.command, err) ?? err;
    }
  }

  /** The BullMQ backend the entities' queues share, on the command connection. */
  private static backend(setup: PodSetup, command: Connections['command']): RedisQueueBackend {
    const o = setup.options;
    defineScripts(command);
    const rootOpts: QueueBaseOptions & KeyPrefixOptions & { lockDuration: number } = {
      connection: command,
      prefix: o.keyPrefix,
      skipVersionCheck: true,
      // Job locks live as long as leases: the heartbeat renews both together.
      lockDuration: o.heartbeatTtlMs,
    };
    const root = createRedisBackend('__aq', rootOpts);
    // BullMQ re-emits the command connection's errors here; Connections hears them already (once
    // per outage). An unheard 'error' event would kill the process.
    root.on('error', () => undefined);
    return root;
  }

  /** What a health check reads: Redis, and when the pod's loops last came round. */
  probe(): PodProbe {
    const { heartbeat, dispatcher, runners } = this;
    return {
      ping: (timeoutMs) => pingWithin(this.connections.command, timeoutMs),
      loopTimes: () => ({
        heartbeatTickAt: heartbeat.lastTickAt,
        leasesRenewedAt: heartbeat.renewedAt,
        dispatcherTickAt: dispatcher?.lastTickAt,
      }),
      held: () => runners.size,
    };
  }

  /** Starts the heartbeat, and on a processing pod the dispatcher and the cron manager. */
  startLoops(): void {
    this.heartbeat.start();
    this.dispatcher?.start();
    this.cron?.start();
  }

  /**
   * Stops taking work, lets each running job finish, releases every lease (handing entities
   * with work to other pods at once) and closes the connections. While Redis is unreachable it
   * waits `stopTimeoutMs` at most, then closes anyway: the leases expire by themselves.
   */
  async close(): Promise<void> {
    this.cron?.stop();
    await this.dispatcher?.stop();
    const held = this.runners.size;
    const { stopTimeoutMs } = this.setup.options;
    const handedBack = this.handBack().catch((err: unknown) => this.setup.report(err, 'stopping'));
    if (!(await this.connections.settlesWhileReachable(handedBack, stopTimeoutMs))) {
      this.setup.report(
        new Error(
          `Redis unreachable for ${stopTimeoutMs} ms (stopTimeoutMs): stopped without handing ` +
            `back ${held} entities; other pods take them over once their leases expire`,
        ),
        'stopping',
      );
    }
    this.waiters.close();
    await this.connections.close();
  }

  /** Lets each running job finish, releases every lease, leaves the pod registry. */
  private async handBack(): Promise<void> {
    await this.runners.stopAll();
    await this.heartbeat.stop();
    try {
      await this.registry.leave(this.connections.command);
    } catch (err) {
      this.setup.report(err, 'leaving the pod registry');
    }
  }
}
