import { isCluster, type RedisClient } from '../../redis/connections';
import { leaseSlotKey, type KeyBuilder } from '../../redis/keys';
import { claim, type ClaimArgs, type ClaimMode, type ClaimReply } from '../../redis/scripts/claim';
import { signal } from '../../redis/scripts/signal';
import { touchIndex } from '../../redis/scripts/touch-index';
import type { Clock } from '../clock';
import type { EntityHandle } from '../entities/entity';
import type { RunnerRegistry } from '../running/runner-registry';
import type { PodRegistry } from './pod-registry';

/** Remote owners remembered at most; past it the map starts over (a cache, not a record). */
const MAX_REMOTE_OWNERS = 100_000;

/** What claiming needs from the pod. */
export interface ClaimsContext {
  readonly podId: string;
  readonly redis: RedisClient;
  readonly clock: Clock;
  readonly keys: KeyBuilder;
  readonly leaseTtlMs: number;
  /** False on a producer-only pod: it never claims. */
  readonly processing: boolean;
  readonly runners: RunnerRegistry;
  readonly registry: PodRegistry;
  isStarted(): boolean;
  /** True for a while after this pod handed entities over: it leaves free ones to others. */
  giving(): boolean;
}

/** One claim on its way: its arguments, and whether it counts against the fair share. */
export interface PendingClaim {
  readonly args: ClaimArgs;
  readonly claiming: boolean;
  readonly sentAt: number;
}

/**
 * The claim protocol of this pod: builds claim calls (a fresh owner token each), counts claims in
 * flight against the fair share, and acts on their replies: start a runner, wake the idle owner,
 * or offer the entity to the other pods through the spawn set. Remembers for half a TTL which
 * entities a live pod elsewhere holds, so enqueues to them skip the sweep index.
 */
export class Claims {
  private tokenSeq = 0;
  /** Claims sent whose reply has not started a runner yet: they count against the fair share. */
  private inFlight = 0;
  /** Entities known to be held by a live pod elsewhere, until the given time. */
  private readonly remoteOwners = new Map<string, number>();
  /** Wake-ups of one turn, per holder: sent as one signal (one call on the shared slot). */
  private readonly wakes = new Map<string, { refs: string[]; sent: Promise<void> }>();

  constructor(private readonly ctx: ClaimsContext) {}

  /** True when a live pod elsewhere held the entity a moment ago (no index entry needed). */
  heldElsewhere(ref: string, now: number): boolean {
    return (this.remoteOwners.get(ref) ?? 0) > now;
  }

  /**
   * A claim of `entity` to send now: with `want` it claims (`mode`) if this pod is within its
   * fair share, and counts against it until {@link settle}; otherwise it only probes.
   */
  begin(entity: EntityHandle, want: boolean, mode: ClaimMode = 'claim'): PendingClaim {
    const claiming = want && this.canClaimHere();
    if (claiming) this.inFlight += 1;
    const sentAt = this.ctx.clock.now();
    return { args: this.args(entity, claiming ? mode : 'probe'), claiming, sentAt };
  }

  /** The claim's reply came back (or failed): it no longer counts as in flight. */
  settle(pending: PendingClaim): void {
    if (pending.claiming) this.inFlight -= 1;
  }

  /**
   * Makes sure someone runs an entity that just got work: the local runner if it takes it, else
   * a claim here (within the fair share) or a wake-up of its owner, or an offer to other pods.
   */
  async route(entity: EntityHandle, mode: 'claim' | 'claim-if-work' = 'claim'): Promise<void> {
    const runner = this.ctx.runners.get(entity.ref);
    if (runner?.acceptsLocalWork()) {
      runner.notify();
      return;
    }
    const pending = this.begin(entity, true, mode);
    let reply: ClaimReply;
    try {
      reply = await claim(this.ctx.redis, entity.keys, pending.args);
    } finally {
      this.settle(pending);
    }
    await this.onReply(entity, reply, pending);
  }

  /** Claims a free entity that has work (spawn signal or sweep); true when this pod got it. */
  async claimIfWork(entity: EntityHandle): Promise<boolean> {
    if (this.ctx.runners.has(entity.ref) || !this.ctx.isStarted()) return false;
    const sentAt = this.ctx.clock.now();
    const pending: PendingClaim = {
      args: this.args(entity, 'claim-if-work'),
      claiming: false,
      sentAt,
    };
    const reply = await claim(this.ctx.redis, entity.keys, pending.args);
    await this.onReply(entity, reply, pending);
    return reply.kind === 'claimed';
  }

  /**
   * Wakes `ref`'s idle holder `pod`: the wake-ups of one enqueue batch (their replies are acted
   * on in the same turn) go out as one signal per holder, scored by Redis's clock as before.
   */
  private wake(pod: string, ref: string): Promise<void> {
    let batch = this.wakes.get(pod);
    if (!batch) {
      const refs: string[] = [];
      const sent = Promise.resolve().then(() => {
        this.wakes.delete(pod);
        return signal(this.ctx.redis, this.ctx.keys.wakeKey(pod), refs);
      });
      batch = { refs, sent };
      this.wakes.set(pod, batch);
    }
    batch.refs.push(ref);
    return batch.sent;
  }

  /** Acts on a claim's reply: start a runner, wake the owner, or offer the entity. */
  async onReply(entity: EntityHandle, reply: ClaimReply, pending: PendingClaim): Promise<void> {
    const { redis, keys, clock, leaseTtlMs } = this.ctx;
    switch (reply.kind) {
      case 'claimed': {
        const { sentAt } = pending;
        const leaseKey = leaseSlotKey(entity.keys, reply.slot);
        const runner = this.ctx.runners.start(
          entity,
          leaseKey,
          reply.slot,
          pending.args.token,
          reply.fence,
          sentAt,
        );
        this.remoteOwners.delete(entity.ref);
        const now = await touchIndex(redis, keys.indexKey(), '', [[leaseTtlMs, entity.ref]]);
        // The heartbeat may have scored it since (it renews from the runner's start).
        runner.indexScore = Math.max(runner.indexScore, now + leaseTtlMs);
        return;
      }
      case 'held': {
        if (reply.pod === this.ctx.podId) {
          this.ctx.runners.get(entity.ref)?.notify();
          return;
        }
        this.remoteOwners.set(entity.ref, clock.now() + leaseTtlMs / 2);
        if (this.remoteOwners.size > MAX_REMOTE_OWNERS) this.remoteOwners.clear();
        // Scored by Redis's clock (signal-1.lua), as the claim script does off Cluster.
        if (reply.wake === 1) await this.wake(reply.pod, entity.ref);
        return;
      }
      case 'free':
        this.remoteOwners.delete(entity.ref);
        await signal(redis, keys.spawnKey(), [entity.ref]);
        return;
      case 'no-work':
        return;
    }
  }

  /** Whether this pod should claim a free entity itself rather than offer it to other pods. */
  canClaimHere(): boolean {
    return this.budget() > 0;
  }

  /** Whether the dispatcher should take entities offered in the spawn set right now. */
  watchesSpawns(): boolean {
    if (!this.ctx.processing || !this.ctx.isStarted() || this.ctx.registry.recovering())
      return false;
    return this.budget() > 0 || this.ctx.registry.warmingUp();
  }

  /**
   * How many more free entities this pod may claim now without going past its fair share;
   * `fresh`: the registry was read just now (see `claimBudget`).
   */
  budget(fresh = false): number {
    return this.ctx.giving() ? 0 : this.shareLeft(fresh);
  }

  /** True for a while after this pod handed entities over: it leaves free ones to others. */
  giving(): boolean {
    return this.ctx.giving();
  }

  /**
   * While this pod is giving (it leaves the spawn set to the others): how many of the entities
   * the others leave waiting there it may still claim within its fair share; 0 otherwise.
   */
  adoptBudget(): number {
    return this.ctx.giving() ? this.shareLeft() : 0;
  }

  /** Whether another processing pod may still claim a free entity, as this pod last saw them. */
  roomElsewhere(): boolean {
    return this.ctx.registry.roomElsewhere(this.ctx.runners.size + this.inFlight);
  }

  private shareLeft(fresh = false): number {
    if (!this.ctx.processing || !this.ctx.isStarted()) return 0;
    const { runners, registry } = this.ctx;
    return registry.claimBudget(runners.size + this.inFlight, this.inFlight, fresh);
  }

  private args(entity: EntityHandle, mode: ClaimMode): ClaimArgs {
    this.tokenSeq += 1;
    return {
      token: `${this.ctx.podId}:${this.tokenSeq.toString(36)}`,
      podId: this.ctx.podId,
      leaseTtlMs: this.ctx.leaseTtlMs,
      maxStalledCount: entity.config.maxStalledCount,
      mode,
      slots: entity.config.maxWorkersPerEntity,
      // Off Cluster the claim script wakes an idle holder itself (see claim-11.lua).
      wakeKeyPrefix: isCluster(this.ctx.redis) ? '' : this.ctx.keys.wakeKey(''),
      ref: entity.ref,
    };
  }
}
