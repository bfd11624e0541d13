/** A live pod as the registry shows it. */
export interface PeerView {
  owned: number;
  processing: boolean;
  seenAt: number;
}

export interface FairShareInput {
  /** This pod's id (its own entry does not count as a peer). */
  self: string;
  /** Entities this pod holds, claims in flight included. */
  owned: number;
  /** The live pods of the registry. */
  peers: ReadonlyMap<string, PeerView>;
  /** Entities waiting in the spawn set. */
  pendingSpawns: number;
  /** Processing pods whose entries went stale recently: maybe slow, not dead. */
  recentlyStale: number;
  /** This pod is warming up (at start, or back from a gap in its own beats). */
  warming: boolean;
}

/**
 * How many more free entities a pod may claim: its fair share of all held and waiting entities
 * over the live processing pods, plus 10% slack (at least 1), minus what it holds.
 *
 * While warming up, the pods whose entries went stale recently count too, and there is no slack:
 * after Redis comes back, every entry is stale and the pods reconnect one after the other; the
 * first ones back must leave the others their share, since nothing moves entities once held.
 * Alone as far as it knows, a warming pod claims one entity at a time (a live pod may not have
 * shown up yet); a pod alone after warming up claims without limit.
 */
export function claimBudget(input: FairShareInput): number {
  let pods = 1;
  let total = input.owned;
  for (const [pod, view] of input.peers) {
    if (pod === input.self || !view.processing) continue;
    pods += 1;
    total += view.owned;
  }
  if (input.warming) pods += input.recentlyStale;
  if (pods === 1) return input.warming ? 1 - input.owned : Number.MAX_SAFE_INTEGER;
  const share = Math.ceil((total + input.pendingSpawns + 1) / pods);
  const slack = input.warming ? 0 : Math.max(1, Math.floor(share / 10));
  return Math.max(0, share + slack - input.owned);
}
