import type { RedisClient } from '../../redis/connections';
import type { KeyBuilder } from '../../redis/keys';
import { due } from '../../redis/scripts/due';
import { inspect } from '../../redis/scripts/inspect';
import { rest } from '../../redis/scripts/rest';
import { touchIndex } from '../../redis/scripts/touch-index';
import { unindex } from '../../redis/scripts/unindex';
import type { FailedIndex } from '../admin/failed-index';
import type { Clock, ClockTimer } from '../clock';
import type { EntityHandle } from '../entities/entity';
import type { RunnerRegistry } from '../running/runner-registry';
import type { Claims } from './claims';

/** Due entries looked at per set and sweep. */
const PAGE = 256;

/** What the cron manager needs from the pod. */
export interface CronManagerContext {
  readonly redis: RedisClient;
  readonly keys: KeyBuilder;
  readonly clock: Clock;
  readonly leaseTtlMs: number;
  /**
   * How often an entity at rest that a BullMQ tool may put work in (it keeps failed jobs, or is
   * paused with jobs waiting) is looked at, ms.
   */
  readonly watchMs: number;
  readonly claims: Claims;
  readonly runners: RunnerRegistry;
  readonly failedIndex: FailedIndex;
  /** This pod is cut off, or back from a gap in its beats (see PodRegistry.recovering). */
  recovering(): boolean;
  entityFromRef(ref: string): EntityHandle | undefined;
  report(error: unknown, context: string): void;
}

/**
 * The cron manager (`enableCronManager`, every `cronInterval`): the safety sweep and the care of
 * entities at rest. Both work on sorted sets scored by Redis's clock, so no pod's clock decides.
 *
 * - The index holds every entity that may have work, scored with the time by which its lease
 *   should have been renewed. Due entries are inspected: a live lease pushes the entry forward;
 *   no lease and work means the owner died (or a hand-over was lost), so the entity is claimed
 *   here or offered to other pods; no lease and no work moves it to the rest set.
 * - The rest set holds entities with no holder that still keep finished jobs: retention applies
 *   by Redis's clock, a live queue's keys go, and work put back by a BullMQ tool (a retried
 *   failed job) is found within `watchMs` and a sweep: the entity is then claimed like any
 *   other. Entities that keep no failed job leave the index of those that do (see FailedIndex).
 *
 * Cost when nothing is due: one script call per set per interval. An entity at rest with failed
 * jobs costs two script calls (two round trips) per `watchMs`.
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
    const { redis, keys } = this.ctx;
    const [live, resting] = await Promise.all([
      due(redis, keys.indexKey(), PAGE),
      due(redis, keys.restKey(), PAGE),
    ]);
    await Promise.all([
      ...live.entries.map(({ member, score }) => this.check(member, score)),
      ...resting.entries.map(({ member, score }) => this.tend(member, score)),
    ]);
  }

  /** Acts on one due index entry (`score` as read, for the conditional removal). */
  private async check(ref: string, score: string): Promise<void> {
    const { redis, keys, runners, failedIndex } = this.ctx;
    const indexKey = keys.indexKey();
    if (runners.has(ref)) return; // ours: the heartbeat keeps it fresh
    const entity = this.ctx.entityFromRef(ref);
    if (!entity) return;
    const state = await inspect(redis, entity.keys, entity.config.maxWorkersPerEntity);
    if (state.pttl > 0 && !state.orphan) {
      // Held. If by this pod (claimed while we looked), its heartbeat owns the entry's score.
      if (runners.has(ref)) return;
      await touchIndex(redis, indexKey, 'XX', [[state.pttl, ref]]);
    } else if (state.work) {
      // No live holder (or a dead one's job is stranded beside live ones): take it over.
      await Promise.all([
        touchIndex(redis, indexKey, 'XX', [[this.ctx.leaseTtlMs, ref]]),
        failedIndex.noteIfKept(entity), // see below
      ]);
      await this.claimOrOffer(entity);
    } else if (this.ctx.recovering()) {
      // Its lease may have run out only because its holder was cut off with this pod: it takes
      // the lease back as it reconnects (includes/ownLease.lua), which needs the fencing counter
      // the rest set tidies away. Look again once past the warm-up.
      await touchIndex(redis, indexKey, 'XX', [[this.ctx.leaseTtlMs, ref]]);
    } else if (await unindex(redis, indexKey, ref, score)) {
      // Its holder is gone, and may have died between failing a job and noting the entity in the
      // index of those with failed jobs: noted if it keeps any (an entity released cleanly comes
      // here too, its sweep entry left by a late heartbeat: it must not be counted in a
      // listing's total). The rest set looks at it now, not at the look it may have scheduled
      // (which can be an hour away, its completed jobs' age): that look prunes an entry whose
      // failed jobs went without the engine.
      await Promise.all([
        touchIndex(redis, keys.restKey(), '', [[0, ref]]),
        failedIndex.noteIfKept(entity),
      ]);
    }
  }

  /** Looks after one due entity of the rest set. */
  private async tend(ref: string, score: string): Promise<void> {
    const { redis, keys, failedIndex } = this.ctx;
    const restKey = keys.restKey();
    const entity = this.ctx.entityFromRef(ref);
    if (!entity) return;
    const config = entity.config;
    const state = await rest(redis, entity.keys, config.maxWorkersPerEntity, {
      completed: entity.keepCompleted,
      failed: entity.keepFailed,
    });
    if (state.kind === 'rest') {
      // A BullMQ tool may put work back (a retried failed job, a resume) and wake nobody: look
      // again soon while it can.
      let next = state.nextMs;
      if (state.watch) next = next < 0 ? this.ctx.watchMs : Math.min(next, this.ctx.watchMs);
      // One that keeps no failed job leaves the index of those that do (a read when it isn't in).
      const pruned = state.failed === 0 ? failedIndex.prune(entity) : undefined;
      if (next >= 0) {
        await Promise.all([touchIndex(redis, restKey, 'XX', [[next, ref]]), pruned]);
        return;
      }
      await pruned;
    }
    if (!(await unindex(redis, restKey, ref, score))) return; // touched meanwhile: keep it
    if (state.kind === 'work') {
      await touchIndex(redis, keys.indexKey(), '', [[this.ctx.leaseTtlMs, ref]]);
      await this.claimOrOffer(entity);
    } else if (state.kind === 'gone') {
      await failedIndex.prune(entity);
    }
  }

  /**
   * Claims the entity within this pod's fair share, else offers it through the spawn set. The
   * claim counts against the share while in flight: a sweep sends its claims at once, and each
   * must see the ones before it.
   */
  private claimOrOffer(entity: EntityHandle): Promise<void> {
    return this.ctx.claims.route(entity, 'claim-if-work');
  }
}
