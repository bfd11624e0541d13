import { runScript, type ScriptTarget } from '../script-loader';

/** One lease to renew, and the lock of the job its holder runs (or the lease key again). */
export interface LeaseRenewal {
  lease: string;
  lock: string;
  token: string;
}

/**
 * Renews many leases in one call (`extendLeases.lua`; on Cluster, one call per hash slot).
 * Resolves with one boolean per renewal: false when the token no longer owns the lease.
 */
export async function extendLeases(
  target: ScriptTarget,
  ttlMs: number,
  renewals: readonly LeaseRenewal[],
): Promise<boolean[]> {
  const keys: string[] = [];
  const args: (string | number)[] = [ttlMs];
  for (const r of renewals) {
    keys.push(r.lease, r.lock);
    args.push(r.token);
  }
  const reply = (await runScript(target, 'extendLeases', keys, args)) as number[];
  return renewals.map((_, i) => reply[i] === 1);
}
