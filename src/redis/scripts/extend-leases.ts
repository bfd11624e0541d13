import { runScript, type ScriptTarget } from '../script-loader';

/** One lease to renew, with the lock of the job its holder runs (or the lease key again). */
export interface LeaseRenewal {
  lease: string;
  lock: string;
  fenceKey: string;
  token: string;
  /** The holder's fencing token (a lease that expired unclaimed is taken back). */
  fence: string;
}

/**
 * Renews many leases in one call (`extendLeases.lua`; on Cluster, one call per hash slot).
 * Resolves with one boolean per renewal: false when another holder took the entity.
 */
export async function extendLeases(
  target: ScriptTarget,
  ttlMs: number,
  podId: string,
  renewals: readonly LeaseRenewal[],
): Promise<boolean[]> {
  const keys: string[] = [];
  const args: (string | number)[] = [ttlMs, podId];
  for (const r of renewals) {
    keys.push(r.lease, r.lock, r.fenceKey);
    args.push(r.token, r.fence);
  }
  const reply = (await runScript(target, 'extendLeases', keys, args)) as number[];
  return renewals.map((_, i) => reply[i] === 1);
}
