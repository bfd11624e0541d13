/**
 * What a holder's scripts check its lease with: its token, and its fencing token, so that a
 * lease that expired while nobody else took the entity is taken back instead of lost (see
 * includes/ownLease.lua).
 */
export interface LeaseGuard {
  /** The holder's lease slot key. */
  readonly leaseKey: string;
  readonly token: string;
  /** The fencing token of the holder's claim, as Redis stores it (decimal digits). */
  readonly fence: string;
  readonly podId: string;
  /** Lease TTL, ms. */
  readonly ttlMs: number;
}
