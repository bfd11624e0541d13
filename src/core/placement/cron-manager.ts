import type { RedisClient } from '../../redis/connections';
import type { KeyBuilder } from '../../redis/keys';
import { inspect } from '../../redis/scripts/inspect';
import { unindex } from '../../redis/scripts/unindex';
import type { Clock, ClockTimer } from '../clock';
import type { EntityHandle } from '../entities/entity';
import type { RunnerRegistry } from '../running/runner-registry';
import type { Claims } from './claims';

/** Due index entries inspected per sweep. */
const PAGE = 256;

/** What the cron manager needs from the pod. */
export interface CronManagerContext {
  readonly redis: RedisClient;
  readonly keys: KeyBuilder;
  readonly clock: Clock;
  readonly leaseTtlMs: number;
  readonly claims: Claims;
  readonly runners: RunnerRegistry;
  entityFromRef(ref: string): EntityHandle | undefined;
  report(error: unknown, context: string): void;
}

/**
 * The cron manager (`enableCronManager`, every `cronInterval`): the safety sweep. The index
 * holds every entity that may have work, scored with the time by which its lease should have
 * been renewed. Entries whose time has passed are inspected: a live lease pushes the entry
 * forward; no lease and work means the owner died (or a hand-over was lost), so the entity is
 * claimed here or offered to other pods; no lease and no work removes the entry, unless it
 * changed meanwhile. Cost when nothing is due: one ZRANGEBYSCORE per interval.
 */
export class CronManager {
  private timer?: ClockTimer;
  private stopped = false;
  private busy = false;

  constructor(
    private readonly ctx: CronManagerContext,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    const clock = this.ctx.clock;
    // Every interval, as setInterval would; a sweep still running skips the next one.
    const tick = (): void => {
      if (this.stopped) return;
      this.timer = clock.setTimeout(tick, this.intervalMs);
      if (this.busy) return;
      this.busy = true;
      this.sweep()
        .catch((err: unknown) => this.ctx.report(err, 'safety sweep'))
        .finally(() => (this.busy = false));
    };
    this.timer = clock.setTimeout(tick, this.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    this.ctx.clock.clearTimeout(this.timer);
  }

  async sweep(): Promise<void> {
    const { redis, keys, clock } = this.ctx;
    const now = clock.now();
    const due = await redis.zrangebyscore(
      keys.indexKey(),
      '-inf',
      now,
      'WITHSCORES',
      'LIMIT',
      0,
      PAGE,
    );
    const checks: Promise<void>[] = [];
    for (let i = 0; i < due.length; i += 2) checks.push(this.check(due[i], due[i + 1], now));
    await Promise.all(checks);
  }

  /** Acts on one due index entry (`score` as read, for the conditional removal). */
  private async check(ref: string, score: string, now: number): Promise<void> {
    const { redis, keys, runners, claims } = this.ctx;
    const indexKey = keys.indexKey();
    if (runners.has(ref)) return; // ours: the heartbeat keeps it fresh
    const entity = this.ctx.entityFromRef(ref);
    if (!entity) return;
    const state = await inspect(redis, entity.keys, entity.config.maxWorkersPerEntity);
    if (state.pttl > 0 && !state.orphan) {
      // Held. If by this pod (claimed while we looked), its heartbeat owns the entry's score.
      if (runners.has(ref)) return;
      await redis.zadd(indexKey, 'XX', now + state.pttl, ref);
    } else if (state.work) {
      // No live holder (or a dead one's job is stranded beside live ones): take it over.
      await redis.zadd(indexKey, 'XX', now + this.ctx.leaseTtlMs, ref);
      if (claims.canClaimHere()) await claims.claimIfWork(entity);
      else await redis.zadd(keys.spawnKey(), 'NX', now, ref);
    } else {
      await unindex(redis, indexKey, ref, score);
    }
  }
}
