import type { Connections, RedisClient } from '../../redis/connections';
import type { KeyBuilder } from '../../redis/keys';
import { signal } from '../../redis/scripts/signal';
import { sleep, type Clock } from '../clock';
import type { EntityHandle } from '../entities/entity';
import type { RunnerRegistry } from '../running/runner-registry';
import type { Claims } from './claims';

/** Seconds a blocking wait lasts before the loop re-checks its state (and fair share). */
const BLOCK_SECONDS = 1;
/** The same, while the pod is at its fair share and not watching the spawn set. */
const FULL_BLOCK_SECONDS = 0.25;
const DRAIN = 200;
/** Spawn requests a pod takes per wake-up, beyond the one it popped. */
const SPAWN_BATCH = 63;
/** Pause after a failed wait (Redis down) before the next one. */
const RETRY_MS = 200;
/** How often a giving pod looks for entities the others left waiting in the spawn set. */
const ADOPT_CHECK_MS = FULL_BLOCK_SECONDS * 1000;

/** What the dispatcher needs from the pod. */
export interface DispatcherContext {
  readonly podId: string;
  readonly redis: RedisClient;
  readonly connections: Connections;
  readonly keys: KeyBuilder;
  readonly clock: Clock;
  readonly claims: Claims;
  readonly runners: RunnerRegistry;
  entityFromRef(ref: string): EntityHandle | undefined;
  refreshRegistry(): Promise<void>;
  /** Redis's clock now, as the last beat heard it (the spawn set is scored by it). */
  redisNow(): number;
  /** How long a giving pod leaves an entity waiting in the spawn set to the others, ms. */
  readonly spawnGraceMs: number;
  report(error: unknown, context: string): void;
}

/**
 * The pod's single blocking reader. It waits on two sorted sets at once (same hash slot):
 * this pod's wake set (idle entities it holds that got work from another pod) and the shared
 * spawn set (free entities with work, offered to any processing pod). One connection, whatever
 * the number of entities; while the pod is over its fair share it leaves the spawn set to others.
 */
export class Dispatcher {
  /** When the loop last came back from its blocking wait (for health checks). */
  lastTickAt = 0;
  private stopping = false;
  private loop?: Promise<void>;
  private adoptCheckedAt = 0;

  constructor(private readonly ctx: DispatcherContext) {}

  start(): void {
    this.lastTickAt = this.ctx.clock.now();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.ctx.connections.interruptBlocking();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { keys, claims, connections } = this.ctx;
    const wakeKey = keys.wakeKey(this.ctx.podId);
    const spawnKey = keys.spawnKey();
    while (!this.stopping) {
      try {
        // Past its share, a pod leaves spawns to others, and looks again soon: shares move.
        const open = claims.watchesSpawns();
        const watch = open ? [wakeKey, spawnKey] : [wakeKey];
        const epoch = connections.blockingEpoch;
        const popped = await connections
          .block((blocking) =>
            blocking.bzpopmin(...watch, open ? BLOCK_SECONDS : FULL_BLOCK_SECONDS),
          )
          .finally(() => {
            this.lastTickAt = this.ctx.clock.now();
            if (epoch !== connections.blockingEpoch && !this.stopping) this.wakeAllIdle();
          });
        if (this.stopping) break;
        if (!open) await this.adoptWaiting(spawnKey);
        if (!popped) continue;
        const [key, ref] = popped;
        if (key === wakeKey) {
          this.wake(ref);
          // Let the woken runner write its fetch first: the drain is for bursts, not this job.
          await new Promise((resolve) => setImmediate(resolve));
          await this.drainWakes(wakeKey);
        } else {
          await this.spawn([ref]);
        }
      } catch (err) {
        if (this.stopping) break;
        this.ctx.report(err, 'waiting for wake-up and spawn signals');
        await sleep(this.ctx.clock, RETRY_MS);
      }
    }
  }

  private wake(ref: string): void {
    this.ctx.runners.get(ref)?.notify();
  }

  /**
   * The blocking connection closed while a pop waited: a wake-up it popped may have gone with
   * the lost reply. Every idle runner of this pod looks at its queue again (one script each),
   * so none waits out its idle timeout with work. (A lost spawn request is the sweep's.)
   */
  private wakeAllIdle(): void {
    for (const runner of this.ctx.runners.all()) if (runner.state === 'idle') runner.notify();
  }

  /**
   * Takes the other pending wake-ups at once instead of one blocking round trip each. Its reply
   * lost with the command connection took those wake-ups along, as for the blocking pop.
   */
  private async drainWakes(wakeKey: string): Promise<void> {
    const { connections, redis } = this.ctx;
    const epoch = connections.commandEpoch;
    const more = await redis.zpopmin(wakeKey, DRAIN);
    for (let i = 0; i < more.length; i += 2) this.wake(more[i]);
    if (epoch !== connections.commandEpoch) this.wakeAllIdle();
  }

  /**
   * Claims entities offered in the spawn set: the popped one and as many more as this pod's fair
   * share allows (at most SPAWN_BATCH), claimed concurrently (one round trip for all).
   */
  private async spawn(refs: string[]): Promise<void> {
    const { claims, redis, keys } = this.ctx;
    // Fresh pod counts first: a view up to a heartbeat old could let one pod take a whole burst.
    await this.ctx.refreshRegistry();
    if (!claims.watchesSpawns()) {
      // Popped by a wait sent before this pod was cut off (see PodRegistry.recovering): offer
      // it again to the pods that may claim.
      await signal(redis, keys.spawnKey(), refs);
      return;
    }
    // The registry was read just now: a pod alone in it may ramp up (see claimBudget).
    const budget = Math.min(SPAWN_BATCH, claims.budget(true) - 1);
    if (budget > 0) {
      const more = await redis.zpopmin(keys.spawnKey(), budget);
      for (let i = 0; i < more.length; i += 2) refs.push(more[i]);
    }
    await this.claimAll(refs);
  }

  /**
   * A giving pod leaves the spawn set to the others, but not when they can't take it: it claims
   * itself, within its own share, what waits there while no other pod has room (they are at
   * their cap), and otherwise what they leave waiting past `spawnGraceMs` (they are slow).
   * Without this, nobody would watch the spawn set until this pod stops giving (a TTL), and
   * those entities' jobs would wait as long.
   */
  private async adoptWaiting(spawnKey: string): Promise<void> {
    const { claims, clock, redis } = this.ctx;
    if (!claims.giving() || clock.now() - this.adoptCheckedAt < ADOPT_CHECK_MS) return;
    this.adoptCheckedAt = clock.now();
    if ((await redis.zcard(spawnKey)) === 0) return;
    // Fresh counts first: the others may have reached their cap since this pod's last beat.
    await this.ctx.refreshRegistry();
    const max = claims.roomElsewhere() ? this.ctx.redisNow() - this.ctx.spawnGraceMs : '+inf';
    const waiting = await redis.zcount(spawnKey, '-inf', max);
    const budget = Math.min(SPAWN_BATCH + 1, waiting, claims.adoptBudget());
    if (budget <= 0) return;
    const popped = await redis.zpopmin(spawnKey, budget);
    const refs: string[] = [];
    for (let i = 0; i < popped.length; i += 2) refs.push(popped[i]);
    await this.claimAll(refs);
  }

  /**
   * Claims entities taken from the spawn set, concurrently (one round trip for all); then tells
   * the others at once what this pod holds now, so that a giver's next round counts them here.
   */
  private async claimAll(refs: string[]): Promise<void> {
    const claimed = await Promise.all(
      refs.map(async (ref) => {
        const entity = this.ctx.entityFromRef(ref);
        if (!entity) {
          this.ctx.report(
            new Error(`Spawn request for an entity this pod can't run: ${ref}`),
            'spawn',
          );
          return false;
        }
        return this.ctx.claims.claimIfWork(entity);
      }),
    );
    if (claimed.includes(true)) await this.ctx.refreshRegistry();
  }
}
