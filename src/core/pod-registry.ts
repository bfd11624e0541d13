import type { RedisClient } from './connections';

interface PeerView {
  owned: number;
  processing: boolean;
  seenAt: number;
}

/**
 * Live pods and how many entities each holds, refreshed with the heartbeat (two commands a beat).
 * Used to spread entities: a pod claims an entity itself only while it holds no more than its
 * fair share; past it, the entity goes through the shared spawn set to a less loaded pod.
 */
export class PodRegistry {
  private peers = new Map<string, PeerView>();

  constructor(
    private readonly key: string,
    private readonly podId: string,
    private readonly staleAfterMs: number,
  ) {}

  async beat(client: RedisClient, owned: number, processing: boolean): Promise<void> {
    const now = Date.now();
    const [, all] = await Promise.all([
      client.hset(this.key, this.podId, `${owned}|${processing ? 1 : 0}|${now}`),
      client.hgetall(this.key),
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
    if (stale.length > 0) await client.hdel(this.key, ...stale);
  }

  async leave(client: RedisClient): Promise<void> {
    await client.hdel(this.key, this.podId);
  }

  /** Whether a pod holding `owned` entities may claim one more without going past its share. */
  allowsClaim(owned: number): boolean {
    let pods = 1;
    let total = owned;
    for (const [pod, view] of this.peers) {
      if (pod === this.podId || !view.processing) continue;
      pods += 1;
      total += view.owned;
    }
    if (pods === 1) return true;
    const share = Math.ceil((total + 1) / pods);
    return owned < share + Math.max(1, Math.floor(share / 10));
  }

  processingPods(): string[] {
    return [...this.peers].filter(([, v]) => v.processing).map(([pod]) => pod);
  }
}
