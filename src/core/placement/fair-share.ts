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

export interface RebalanceInput {
  /** This pod's id (its own entry does not count as a peer). */
  self: string;
  /** Entities this pod holds, hand-overs under way included. */
  owned: number;
  /** The live pods of the registry. */
  peers: ReadonlyMap<string, PeerView>;
  /** Entities waiting in the spawn set (handed over, not claimed yet, count as held). */
  pendingSpawns: number;
  /** How far from an even share a pod may be (a fraction of it) before entities move. */
  tolerance: number;
  /** Entities this pod may hand over in one round, at most. */
  maxMoves: number;
}

/**
 * How many entities a pod should hand over now: none unless some processing pod holds outside
 * `even × (1 ± tolerance)` (widened to the nearest whole entities, so that 3 entities on 2 pods
 * count as balanced, and above to what {@link claimBudget} lets a pod claim); then a pod above the even share (rounded up) gives what it holds beyond
 * it, no more than the pods below it miss, nor than `maxMoves`. A pod never gives below the even
 * share: the entities go to the pods under it, and a balanced fleet moves nothing.
 */
export function rebalanceMoves(input: RebalanceInput): number {
  const counts = [input.owned];
  for (const [pod, view] of input.peers) {
    if (pod === input.self || !view.processing) continue;
    counts.push(view.owned);
  }
  if (counts.length < 2) return 0;
  const held = counts.reduce((a, b) => a + b, 0);
  // Entities in the spawn set were handed over by someone: count them with the receivers.
  const even = (held + input.pendingSpawns) / counts.length;
  const keep = Math.ceil(even);
  if (input.owned <= keep) return 0;
  // Never move what claiming itself allows (see claimBudget): with few entities a pod, its
  // slack of at least one is more than the tolerance, and moves would fight claims.
  const share = Math.ceil((held + input.pendingSpawns + 1) / counts.length);
  const claimCap = share + Math.max(1, Math.floor(share / 10));
  const high = Math.max(claimCap, Math.floor(even * (1 + input.tolerance)));
  const low = Math.min(Math.floor(even), Math.ceil(even * (1 - input.tolerance)));
  if (counts.every((c) => c >= low && c <= high)) return 0;
  let missing = -input.pendingSpawns;
  for (const c of counts.slice(1)) missing += Math.max(0, keep - c);
  return Math.max(0, Math.min(input.maxMoves, input.owned - keep, missing));
}
