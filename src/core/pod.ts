import { createRedisBackend } from 'bullmq';
import type { KeyPrefixOptions, QueueBaseOptions, RedisQueueBackend } from 'bullmq';
import { Connections } from '../redis/connections';
import type { KeyBuilder } from '../redis/keys';
import { defineScripts } from '../redis/script-loader';
import { EntityAdmin } from './admin/entity-admin';
import type { Clock } from './clock';
import type { EntityCatalog } from './entities/entity-catalog';
import type { EventSink } from './events';
import type { ResolvedOptions } from './options/resolved-options';
import { Claims } from './placement/claims';
import { CronManager } from './placement/cron-manager';
import { Dispatcher } from './placement/dispatcher';
import { PodRegistry } from './placement/pod-registry';
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
  private readonly registry: PodRegistry;
  private readonly waiters: ReplyWaiters;
  private readonly heartbeat: Heartbeat;
  private readonly dispatcher?: Dispatcher;
  private readonly cron?: CronManager;

  private constructor(
    private readonly setup: PodSetup,
    private readonly connections: Connections,
  ) {
    const { podId, options: o, keys, clock, catalog, events } = setup;
    const report = (error: unknown, context: string): void => setup.report(error, context);
    const redis = connections.command;
    const isStarted = (): boolean => setup.state() === 'started';
    const leaseTtlMs = o.heartbeatTtlMs;
    const refreshRegistry = (): Promise<void> =>
      this.registry.beat(redis, this.runners.size, o.processing);

    this.waiters = new ReplyWaiters(connections, keys.replyChannel(podId), report, clock, (job) =>
      this.producer.storedOutcome(job),
    );
    const replies = new ReplySender(redis, keys, podId, this.waiters, report);
    // An entity at rest keeping failed jobs is looked at this often: a job put back by a
    // BullMQ tool runs within about a lease TTL and a sweep.
    const retryWatchMs = leaseTtlMs + o.cronIntervalMs;
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
      restDelayMs: retryWatchMs,
      handlerFor: (type) => catalog.handlerFor(type),
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
    });
    const claims = this.claims;
    const transport = new AddTransport({
      podId,
      redis,
      keys,
      clock,
      leaseTtlMs,
      enqueueTimeoutMs: o.enqueueTimeoutMs,
      runners,
      claims,
    });
    this.producer = new Producer({
      podId,
      redis,
      maxPayloadBytes: o.maxPayloadBytes,
      catalog,
      transport,
      waiters: this.waiters,
      state: () => setup.state(),
    });
    this.admin = new EntityAdmin({ redis, keys, catalog, runners, claims });
    this.heartbeat = new Heartbeat(
      {
        podId,
        redis,
        clock,
        leaseTtlMs,
        indexKey: keys.indexKey(),
        runners: () => runners.all(),
        refreshRegistry,
        report,
      },
      o.heartbeatIntervalMs,
    );
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
        report,
      });
      if (o.enableCronManager) {
        this.cron = new CronManager(
          {
            redis,
            keys,
            clock,
            leaseTtlMs,
            retryWatchMs,
            claims,
            runners,
            recovering: () => registry.recovering(),
            entityFromRef,
            report,
          },
          o.cronIntervalMs,
        );
      }
    }
  }

  /** Connects to Redis and builds the parts; the loops start with {@link startLoops}. */
  static async open(setup: PodSetup): Promise<Pod> {
    const o = setup.options;
    const connections = new Connections(o.redis, `${o.keyPrefix}:aq:${setup.podId}`, (e, c) =>
      setup.report(e, c),
    );
    try {
      return await Pod.connect(setup, connections);
    } catch (err) {
      await connections.close();
      throw err;
    }
  }

  private static async connect(setup: PodSetup, connections: Connections): Promise<Pod> {
    const o = setup.options;
    const command = connections.command;
    defineScripts(command);
    const rootOpts: QueueBaseOptions & KeyPrefixOptions & { lockDuration: number } = {
      connection: command,
      prefix: o.keyPrefix,
      skipVersionCheck: true,
      // Job locks live as long as leases: the heartbeat renews both together.
      lockDuration: o.heartbeatTtlMs,
    };
    const root: RedisQueueBackend = createRedisBackend('__aq', rootOpts);
    // BullMQ re-emits connection errors (Redis down, restarting) on the backend: report them and
    // keep going (ioredis reconnects by itself); an unheard 'error' event would kill the process.
    root.on('error', (err: unknown) => setup.report(err, 'Redis connection'));
    await root.waitUntilReady();
    setup.catalog.attach(root);
    return new Pod(setup, connections);
  }

  /** Starts the heartbeat, and on a processing pod the dispatcher and the cron manager. */
  startLoops(): void {
    this.heartbeat.start();
    this.dispatcher?.start();
    this.cron?.start();
  }

  /**
   * Stops taking work, lets each running job finish, releases every lease (handing entities
   * with work to other pods at once) and closes the connections.
   */
  async close(): Promise<void> {
    this.cron?.stop();
    await this.dispatcher?.stop();
    await this.runners.stopAll();
    await this.heartbeat.stop();
    try {
      await this.registry.leave(this.connections.command);
    } catch (err) {
      this.setup.report(err, 'leaving the pod registry');
    }
    this.waiters.close();
    await this.connections.close();
  }
}
