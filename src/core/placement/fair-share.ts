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
  /** Of `owned`, the claims still on their way (0 when not given). */
  inFlight?: number;
  /**
   * The registry was read just now (the dispatcher's spawn round), not at the last heartbeat: a
   * pod alone in it has seen every pod started so far.
   */
  fresh?: boolean;
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
 * shown up yet), and with a registry read just now (`fresh`: the dispatcher's spawn rounds) as
 * many more as it holds, claims on their way counted against it: 1, 2, 4, … per round, since each
 * round's read shows a pod that started meanwhile. A pod alone after warming up claims without
 * limit. (One at a time everywhere left a lone pod restarted with a backlog over many entities
 * claiming one per blocking pop for its whole warm-up: half its throughput. Its enqueues keep
 * one at a time: their view is up to a heartbeat old, and pods started together would otherwise
 * take what they enqueue before seeing each other.)
 */
export function claimBudget(input: FairShareInput): number {
  const others = processingPeers(input);
  let pods = 1 + others.length;
  const total = others.reduce((sum, owned) => sum + owned, input.owned);
  if (input.warming) pods += input.recentlyStale;
  if (pods === 1) {
    if (!input.warming) return Number.MAX_SAFE_INTEGER;
    if (!input.fresh) return 1 - input.owned;
    const inFlight = input.inFlight ?? 0;
    return Math.max(0, Math.max(1, input.owned - inFlight) - inFlight);
  }
  const share = Math.ceil((total + input.pendingSpawns + 1) / pods);
  const slack = input.warming ? 0 : Math.max(1, Math.floor(share / 10));
  return Math.max(0, share + slack - input.owned);
}

/**
 * Whether some other processing pod may still claim a free entity, as the registry shows it: its
 * {@link claimBudget} as this pod would compute it in its place (with slack).
 */
export function roomElsewhere(input: FairShareInput): boolean {
  const others = processingPeers(input);
  if (others.length === 0) return false;
  const total = others.reduce((sum, owned) => sum + owned, input.owned);
  const share = Math.ceil((total + input.pendingSpawns + 1) / (others.length + 1));
  const cap = share + Math.max(1, Math.floor(share / 10));
  return others.some((owned) => owned < cap);
}

/** What each processing pod other than `self` holds, as the registry shows it. */
function processingPeers(input: { self: string; peers: ReadonlyMap<string, PeerView> }): number[] {
  const out: number[] = [];
  for (const [pod, view] of input.peers)
    if (pod !== input.self && view.processing) out.push(view.owned);
  return out;
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
  /** Entities this pod is handing over and has not offered yet (in no count above). */
  handingOver: number;
  /** How far from an even share a pod may be (a fraction of it) before entities move. */
  tolerance: number;
  /** Entities this pod may hand over in one round, at most. */
  maxMoves: number;
}

/**
 * How many entities a pod should hand over now. The entities on their way to the pods below (in
 * the spawn set, or handed over by this pod and not offered yet) count as theirs. With `even`
 * their average, a band `even × (1 ± tolerance)` (widened to the nearest whole entities, so that
 * 3 entities on 2 pods count as balanced, and above to what {@link claimBudget} lets a pod claim):
 * a pod gives only when it holds above the band, or some pod holds below it, and it holds more
 * than the even share (rounded up). It gives what it holds beyond that share, no more than the
 * pods below that share miss (minus what is on its way), nor than `maxMoves`. So a pod never
 * gives below the even share, a move never takes a pod past it, and a fleet within the band
 * moves nothing.
 */
export function rebalanceMoves(input: RebalanceInput): number {
  const counts = [input.owned, ...processingPeers(input)];
  if (counts.length < 2) return 0;
  const coming = input.pendingSpawns + input.handingOver;
  const total = counts.reduce((a, b) => a + b, 0) + coming;
  const even = total / counts.length;
  const keep = Math.ceil(even);
  if (input.owned <= keep) return 0;
  // Never move what claiming itself allows (see claimBudget): with few entities a pod, its
  // slack of at least one is more than the tolerance, and moves would fight claims.
  const share = Math.ceil((total + 1) / counts.length);
  const claimCap = share + Math.max(1, Math.floor(share / 10));
  const high = Math.max(claimCap, Math.floor(even * (1 + input.tolerance)));
  const low = Math.min(Math.floor(even), Math.ceil(even * (1 - input.tolerance)));
  const others = counts.slice(1);
  if (input.owned <= high && others.every((c) => c >= low)) return 0;
  let missing = -coming;
  for (const c of others) missing += Math.max(0, keep - c);
  return Math.max(0, Math.min(input.maxMoves, input.owned - keep, missing));
}
