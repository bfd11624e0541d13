import { isCluster, type RedisClient } from '../../redis/connections';
import { lockKey } from '../../redis/keys';
import { extendLeases, type LeaseRenewal } from '../../redis/scripts/extend-leases';
import { touchIndex } from '../../redis/scripts/touch-index';
import type { Clock, ClockTimer } from '../clock';
import type { EntityRunner } from './entity-runner';

/** Leases renewed per script call on a single Redis; on Cluster, calls are grouped by slot. */
const BATCH = 500;

/** What the heartbeat needs from the pod. */
export interface HeartbeatHost {
  readonly podId: string;
  readonly redis: RedisClient;
  readonly clock: Clock;
  readonly leaseTtlMs: number;
  readonly indexKey: string;
  /** The runners this pod holds now. */
  runners(): readonly EntityRunner[];
  /** Refreshes the pod registry (this pod's entry and its view of the others). */
  refreshRegistry(): Promise<void>;
  report(error: unknown, context: string): void;
}

/**
 * The pod's heartbeat: every `heartbeatTTL / 3`, renews the lease (and running job's lock) of
 * every entity the pod holds in a few batched script calls, pushes their sweep-index entries
 * forward in one ZADD, and refreshes the pod registry. Its cost does not grow with the number of
 * Redis connections, and only by one script call per 500 held entities.
 */
export class Heartbeat {
  /** When the last beat ended, renewed or not (for health checks). */
  lastTickAt = 0;
  /** When the last renewal of every held lease was sent: they last until this + TTL. */
  renewedAt = 0;
  private timer?: ClockTimer;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly host: HeartbeatHost,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    const clock = this.host.clock;
    this.lastTickAt = this.renewedAt = clock.now();
    const tick = (): void => {
      this.running = this.beat()
        .catch((err: unknown) => this.host.report(err, 'heartbeat'))
        .finally(() => {
          this.lastTickAt = clock.now();
          if (!this.stopped) this.timer = clock.setTimeout(tick, this.intervalMs);
        });
    };
    this.timer = clock.setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.host.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Renews one runner's lease now (used before starting a job when the lease is in doubt). */
  async renewOne(runner: EntityRunner): Promise<boolean> {
    const sentAt = this.host.clock.now();
    const [ok] = await this.renew([runner]);
    if (ok) runner.leaseValidUntil = sentAt + this.host.leaseTtlMs;
    return ok === true;
  }

  private async beat(): Promise<void> {
    const host = this.host;
    const runners = host.runners().filter((r) => r.state !== 'closed' && r.state !== 'lost');
    const sentAt = host.clock.now();
    const ttl = host.leaseTtlMs;
    const results = await this.renew(runners);
    this.renewedAt = sentAt;
    const alive: EntityRunner[] = [];
    runners.forEach((runner, i) => {
      if (results[i]) {
        runner.leaseValidUntil = sentAt + ttl;
        alive.push(runner);
      } else {
        runner.markLost();
      }
    });
    // All batches are queued at once, before any later release can drop an entry, and only
    // update entries (XX): an entity released meanwhile must not be put back. Scored by Redis's
    // clock; each runner keeps its score, for the conditional removal at release.
    await Promise.all(
      chunk(alive, BATCH).map(async (batch) => {
        const now = await touchIndex(
          host.redis,
          host.indexKey,
          'XX',
          batch.map((r) => [ttl, r.entity.ref] as const),
        );
        for (const runner of batch) runner.indexScore = now + ttl;
      }),
    );
    await host.refreshRegistry();
  }

  private async renew(runners: EntityRunner[]): Promise<boolean[]> {
    if (runners.length === 0) return [];
    const redis = this.host.redis;
    const groups = isCluster(redis) ? groupBySlot(runners) : chunk(runners, BATCH);
    const lost = new Set<EntityRunner>();
    await Promise.all(
      groups.map(async (group) => {
        const renewals: LeaseRenewal[] = [];
        const owners: EntityRunner[] = [];
        for (const r of group) {
          // One (lease, lock) pair per running job; (lease, lease) when the runner is idle.
          const locks =
            r.activeJobs.size > 0
              ? [...r.activeJobs].map((id) => lockKey(r.entity.keys, id))
              : [r.leaseKey];
          for (const lock of locks) {
            renewals.push({
              lease: r.leaseKey,
              lock,
              fenceKey: r.entity.keys.fence,
              token: r.token,
              fence: r.guard.fence,
            });
            owners.push(r);
          }
        }
        const renewed = await extendLeases(redis, this.host.leaseTtlMs, this.host.podId, renewals);
        owners.forEach((r, i) => {
          if (!renewed[i]) lost.add(r);
        });
      }),
    );
    return runners.map((r) => !lost.has(r));
  }
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** On Cluster a script may only touch one slot: one group per entity queue (its hash tag). */
function groupBySlot(runners: EntityRunner[]): EntityRunner[][] {
  const groups = new Map<string, EntityRunner[]>();
  for (const r of runners) {
    const group = groups.get(r.entity.queueName) ?? [];
    group.push(r);
    groups.set(r.entity.queueName, group);
  }
  return [...groups.values()];
}
