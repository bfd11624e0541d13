import type { RedisClient } from '../../redis/connections';
import { beat, type BeatReply } from '../../redis/scripts/beat';
import { systemClock, type Clock } from '../clock';
import {
  claimBudget,
  rebalanceMoves,
  roomElsewhere,
  type FairShareInput,
  type PeerView,
} from './fair-share';

/** The registry's entries as read, sorted into live, recently stale and gone pods. */
export interface RegistryView {
  peers: Map<string, PeerView>;
  /** Processing pods (other than `self`) whose entries went stale, but not long ago. */
  recentlyStale: number;
  /** Pods whose entries went stale long ago (10 stale limits): the beat drops them. */
  gone: string[];
}

/**
 * Sorts the registry hash (`pod -> owned|processing|timestamp`) as of `now`: entries older than
 * `staleAfterMs` are stale; stale for over ten times that, gone.
 */
export function readRegistry(
  entries: Record<string, string>,
  self: string,
  now: number,
  staleAfterMs: number,
): RegistryView {
  const peers = new Map<string, PeerView>();
  const gone: string[] = [];
  let recentlyStale = 0;
  for (const [pod, value] of Object.entries(entries)) {
    const [ownedStr, proc, at] = value.split('|');
    const seenAt = Number(at);
    const age = now - seenAt;
    if (age <= staleAfterMs) {
      peers.set(pod, { owned: Number(ownedStr), processing: proc === '1', seenAt });
    } else if (age > 10 * staleAfterMs) {
      gone.push(pod);
    } else if (pod !== self && proc === '1') {
      recentlyStale += 1;
    }
  }
  return { peers, recentlyStale, gone };
}

/**
 * Live pods and how many entities each holds, refreshed with the heartbeat (one script call a
 * beat, `beat-2.lua`). Used to spread entities: a pod claims free entities itself only up to its
 * fair share of everything held or waiting in the spawn set; past it, entities go through the
 * spawn set to pods with room. A pod that missed its beats for a lease TTL counts as gone. Every
 * time in the registry is Redis's: no pod's clock decides who is alive.
 */
export class PodRegistry {
  private view: RegistryView = { peers: new Map(), recentlyStale: 0, gone: [] };
  private pendingSpawns = 0;
  /** Start of the current warm-up: the pod's start, or its first beat after a gap in its beats. */
  private warmSince: number;
  /** The current warm-up follows a gap in this pod's beats (not its start). */
  private afterGap = false;
  private lastBeatAt: number;
  /** Redis's clock minus this pod's, as the last beat heard it (0 until one is answered). */
  private redisOffsetMs = 0;

  constructor(
    private readonly key: string,
    private readonly spawnKey: string,
    private readonly podId: string,
    private readonly staleAfterMs: number,
    private readonly clock: Clock = systemClock,
    /**
     * A gap in this pod's beats longer than this (the lease TTL: its leases, and those of every
     * pod cut off with it, may have expired meanwhile) starts a warm-up in which it claims nothing.
     */
    private readonly gapMs = staleAfterMs,
  ) {
    this.warmSince = clock.now();
    this.lastBeatAt = this.warmSince;
  }

  async beat(client: RedisClient, owned: number, processing: boolean): Promise<void> {
    const sentAt = this.clock.now();
    const reply = await beat(
      client,
      { pods: this.key, spawn: this.spawnKey },
      { podId: this.podId, owned, processing, goneAfterMs: 10 * this.staleAfterMs },
    );
    this.observe(reply, sentAt);
  }

  /**
   * Takes in what a beat read back (by Redis's clock): the live pods, the waiting spawns, and
   * Redis's time (`sentAt`: when the beat was sent, on this pod's clock).
   */
  observe(reply: BeatReply, sentAt = this.clock.now()): void {
    this.view = readRegistry(reply.entries, this.podId, reply.now, this.staleAfterMs);
    this.pendingSpawns = reply.pendingSpawns;
    // This pod could not beat for a while (Redis was down or restarting, or the process was
    // paused): the other pods could not either, so their stale entries prove nothing. Warm up
    // again, as at start, instead of taking every entity as the only live pod.
    // (Measured at the reply: a beat sent before an outage may be answered after it.)
    // (This pod's own durations: its clock's rate, not its time, matters here.)
    const answeredAt = this.clock.now();
    if (answeredAt - this.lastBeatAt > this.gapMs) {
      this.warmSince = answeredAt;
      this.afterGap = true;
    }
    this.lastBeatAt = answeredAt;
    // Redis read its clock after the beat was sent: measured from the send, the offset is never
    // below the true one, so a delayed job's timestamp is never early (late by a round trip at
    // most). From the middle of the round trip it could be early by half of one, and a job run
    // before its delay.
    this.redisOffsetMs = reply.now - sentAt;
  }

  /**
   * Redis's clock now, as the last beat heard it and carried forward on this pod's monotonic
   * clock (never behind it; ahead by at most the beat's round trip): for the one time BullMQ
   * takes from the caller, a delayed job's timestamp. This pod's clock until a beat was answered.
   */
  redisNow(): number {
    return this.clock.now() + this.redisOffsetMs;
  }

  async leave(client: RedisClient): Promise<void> {
    await client.hdel(this.key, this.podId);
  }

  /**
   * How many more free entities a pod holding `owned` (`inFlight` of them claims on their way)
   * may claim now, `fresh` after reading the registry just now: see {@link claimBudget}; none
   * while {@link recovering}.
   */
  claimBudget(owned: number, inFlight = 0, fresh = false): number {
    return this.recovering() ? 0 : claimBudget({ ...this.shareInput(owned), inFlight, fresh });
  }

  /**
   * Entities a pod holding `owned`, and handing `handingOver` over, should hand over now: see
   * {@link rebalanceMoves}.
   */
  rebalanceMoves(owned: number, handingOver: number, tolerance: number, maxMoves: number): number {
    return rebalanceMoves({
      self: this.podId,
      owned,
      handingOver,
      peers: this.view.peers,
      pendingSpawns: this.pendingSpawns,
      tolerance,
      maxMoves,
    });
  }

  /** Whether another processing pod may still claim a free entity: see {@link roomElsewhere}. */
  roomElsewhere(owned: number): boolean {
    return roomElsewhere(this.shareInput(owned));
  }

  private shareInput(owned: number): FairShareInput {
    return {
      self: this.podId,
      owned,
      peers: this.view.peers,
      pendingSpawns: this.pendingSpawns,
      recentlyStale: this.view.recentlyStale,
      warming: this.warmingUp(),
    };
  }

  /** Processing pods whose entries went stale recently: the fleet is changing. */
  recentlyStale(): number {
    return this.view.recentlyStale;
  }

  /**
   * True until this pod has been up (or, after a gap in its beats, back) long enough to have seen
   * every live pod.
   */
  warmingUp(): boolean {
    return this.clock.now() - this.warmSince <= this.staleAfterMs;
  }

  /**
   * True while this pod is cut off from Redis for longer than a lease TTL (no beat answered), and
   * during its warm-up once back. Its leases expired meanwhile, and so did those of the pods cut
   * off with it (a Redis restart or failover cuts off all of them), which reconnect one after the
   * other and take theirs back (includes/ownLease.lua). To a pod back first, their entities look
   * orphaned: it leaves them to their holders for the warm-up, claiming nothing. (Measured as
   * soon as the beats stop, not at the first beat after: its sweep may run before that beat.)
   */
  recovering(): boolean {
    const now = this.clock.now();
    if (now - this.lastBeatAt > this.gapMs) return true;
    return this.afterGap && now - this.warmSince <= this.staleAfterMs;
  }

  processingPods(): string[] {
    return [...this.view.peers].filter(([, v]) => v.processing).map(([pod]) => pod);
  }
}
