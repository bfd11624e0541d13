import type { RedisClient } from './connections';

interface PeerView {
  owned: number;
  processing: boolean;
  seenAt: number;
}

/**
 * Live pods and how many entities each holds, refreshed with the heartbeat (three commands a
 * beat). Used to spread entities: a pod claims free entities itself only up to its fair share of
 * everything held or waiting in the spawn set; past it, entities go through the spawn set to
 * pods with room. A pod that missed its beats for a lease TTL counts as gone.
 */
export class PodRegistry {
  private peers = new Map<string, PeerView>();
  /** Processing pods whose entries went stale recently (kept in the hash): maybe slow, not dead. */
  private recentlyStale = 0;
  private pendingSpawns = 0;
  /** Start of the current warm-up: the pod's start, or its first beat after a gap in its beats. */
  private warmSince = Date.now();
  private lastBeatAt = Date.now();

  constructor(
    private readonly key: string,
    private readonly spawnKey: string,
    private readonly podId: string,
    private readonly staleAfterMs: number,
  ) {}

  async beat(client: RedisClient, owned: number, processing: boolean): Promise<void> {
    const now = Date.now();
    const [, all, pending] = await Promise.all([
      client.hset(this.key, this.podId, `${owned}|${processing ? 1 : 0}|${now}`),
      client.hgetall(this.key),
      client.zcard(this.spawnKey),
    ]);
    const peers = new Map<string, PeerView>();
    const stale: string[] = [];
    for (const [pod, value] of Object.entries(all)) {
      const [ownedStr, proc, at] = value.split('|');
      const seenAt = Number(at);
      if (now - seenAt > this.staleAfterMs) {
        stale.push(pod);
        continue;
      }
      peers.set(pod, { owned: Number(ownedStr), processing: proc === '1', seenAt });
    }
    this.peers = peers;
    this.pendingSpawns = pending;
    // This pod could not beat for a while (Redis was down or restarting, or the process was
    // paused): the other pods could not either, so their stale entries prove nothing. Warm up
    // again, as at start, instead of taking every entity as the only live pod.
    // (Measured at the reply: a beat sent before an outage may be answered after it.)
    const answeredAt = Date.now();
    if (answeredAt - this.lastBeatAt > this.staleAfterMs) this.warmSince = answeredAt;
    this.lastBeatAt = answeredAt;
    // Entries of pods that died long ago are dropped; recent ones may be a slow pod, keep them.
    const gone = stale.filter(
      (pod) => now - Number(all[pod].split('|')[2]) > 10 * this.staleAfterMs,
    );
    this.recentlyStale = stale.filter(
      (pod) => pod !== this.podId && !gone.includes(pod) && all[pod].split('|')[1] === '1',
    ).length;
    if (gone.length > 0) await client.hdel(this.key, ...gone);
  }

  async leave(client: RedisClient): Promise<void> {
    await client.hdel(this.key, this.podId);
  }

  /**
   * How many more free entities a pod holding `owned` may claim: its fair share of all held and
   * waiting entities over the live processing pods, plus 10% slack (at least 1), minus `owned`.
   *
   * While warming up (at start, or back from a gap in its own beats), the pods whose entries went
   * stale recently count too, and there is no slack: after Redis comes back, every entry is stale
   * and the pods reconnect one after the other; the first ones back must leave the others their
   * share, since nothing moves entities once held (they keep them while work keeps coming).
   */
  claimBudget(owned: number): number {
    const warming = this.warmingUp();
    let pods = 1;
    let total = owned;
    for (const [pod, view] of this.peers) {
      if (pod === this.podId || !view.processing) continue;
      pods += 1;
      total += view.owned;
    }
    if (warming) pods += this.recentlyStale;
    if (pods === 1) {
      // Alone, as far as we know. Only trust that once any live pod would have shown up;
      // before, claim one at a time and let the spawn set spread the rest.
      return warming ? 1 - owned : Number.MAX_SAFE_INTEGER;
    }
    const share = Math.ceil((total + this.pendingSpawns + 1) / pods);
    const slack = warming ? 0 : Math.max(1, Math.floor(share / 10));
    return Math.max(0, share + slack - owned);
  }

  /**
   * True until this pod has been up (or, after a gap in its beats, back) long enough to have seen
   * every live pod.
   */
  warmingUp(): boolean {
    return Date.now() - this.warmSince <= this.staleAfterMs;
  }

  processingPods(): string[] {
    return [...this.peers].filter(([, v]) => v.processing).map(([pod]) => pod);
  }
}
