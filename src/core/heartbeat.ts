import { runScript } from '../redis/scripts';
import { Cluster } from './connections';
import type { AtomicEngine } from './engine';
import type { EntityRunner } from './entity-runner';

/** Leases renewed per script call on a single Redis; on Cluster, calls are grouped by slot. */
const BATCH = 500;

/**
 * The pod's heartbeat: every `heartbeatTTL / 3`, renews the lease (and running job's lock) of
 * every entity the pod holds in a few batched script calls, pushes their sweep-index entries
 * forward in one ZADD, and refreshes the pod registry. Its cost does not grow with the number of
 * Redis connections, and only by one script call per 500 held entities.
 */
export class Heartbeat {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly engine: AtomicEngine,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    const tick = (): void => {
      this.running = this.beat()
        .catch((err: unknown) => this.engine.reportError(err, 'heartbeat'))
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, this.intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Renews one runner's lease now (used before starting a job when the lease is in doubt). */
  async renewOne(runner: EntityRunner): Promise<boolean> {
    const sentAt = Date.now();
    const [ok] = await this.renew([runner]);
    if (ok) runner.leaseValidUntil = sentAt + this.engine.leaseTtlMs;
    return ok === true;
  }

  private async beat(): Promise<void> {
    const engine = this.engine;
    const runners = engine.ownedRunners().filter((r) => r.state !== 'closed' && r.state !== 'lost');
    const sentAt = Date.now();
    const ttl = engine.leaseTtlMs;
    const results = await this.renew(runners);
    const alive: (string | number)[] = [];
    runners.forEach((runner, i) => {
      if (results[i]) {
        runner.leaseValidUntil = sentAt + ttl;
        runner.indexScore = sentAt + ttl;
        alive.push(sentAt + ttl, runner.entity.ref);
      } else {
        runner.markLost();
      }
    });
    const command = engine.command;
    const indexKey = engine.keys.indexKey();
    // All batches are queued at once, before any later release can drop an entry, and only
    // update entries (XX): an entity released meanwhile must not be put back.
    const updates: Promise<unknown>[] = [];
    for (let i = 0; i < alive.length; i += 2 * BATCH) {
      updates.push(command.zadd(indexKey, 'XX', ...alive.slice(i, i + 2 * BATCH)));
    }
    await Promise.all(updates);
    await engine.refreshPodRegistry();
  }

  private async renew(runners: EntityRunner[]): Promise<boolean[]> {
    if (runners.length === 0) return [];
    const command = this.engine.command;
    const groups = command instanceof Cluster ? groupBySlot(runners) : chunk(runners, BATCH);
    const ttl = this.engine.leaseTtlMs;
    const lost = new Set<EntityRunner>();
    await Promise.all(
      groups.map(async (group) => {
        const keys: string[] = [];
        const args: (string | number)[] = [ttl];
        const owners: EntityRunner[] = [];
        for (const r of group) {
          // One (lease, lock) pair per running job; (lease, lease) when the runner is idle.
          const locks =
            r.activeJobs.size > 0
              ? [...r.activeJobs].map((id) => r.entity.lockKey(id))
              : [r.leaseKey];
          for (const lock of locks) {
            keys.push(r.leaseKey, lock);
            args.push(r.token);
            owners.push(r);
          }
        }
        const reply = (await runScript(command, 'extendLeases', keys, args)) as number[];
        owners.forEach((r, i) => {
          if (reply[i] !== 1) lost.add(r);
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
