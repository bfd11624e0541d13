import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';

/** `claim`: take a free slot; `claim-if-work`: only when the queue has work; `probe`: never. */
export type ClaimMode = 'claim' | 'claim-if-work' | 'probe';

export interface ClaimArgs {
  /** Owner token of this acquisition (unique). */
  token: string;
  podId: string;
  leaseTtlMs: number;
  /** A recovered job past this many stalls is failed by its next runner. */
  maxStalledCount: number;
  mode: ClaimMode;
  /** Lease slots of the entity (maxWorkersPerEntity). */
  slots: number;
  /** `<prefix>:{__aq}:wake:` off Cluster (the script wakes an idle holder itself), else ''. */
  wakeKeyPrefix: string;
  /** The entity's ref, the member of wake sets. */
  ref: string;
}

export type ClaimReply =
  /**
   * Claimed (or a resent copy of this claim found it went through): `recovered` jobs of a dead
   * holder went back to the head of wait.
   */
  | { kind: 'claimed'; fence: number; recovered: number; slot: number }
  /**
   * Held by `pod`. `wake`: 1 when it was idle and the caller must wake it; 2 when the script
   * woke it already; 0 otherwise.
   */
  | { kind: 'held'; pod: string; wake: 0 | 1 | 2 }
  /** Free and not claimed (probe). */
  | { kind: 'free' }
  /** Free, no work (claim-if-work). */
  | { kind: 'no-work' };

/** Queues `claim-11.lua` on `target`; decode its reply with {@link decodeClaim}. */
export function sendClaim(
  target: ScriptTarget,
  keys: EntityKeys,
  args: ClaimArgs,
): Promise<unknown> {
  return runScript(
    target,
    'claim',
    [
      keys.lease,
      keys.fence,
      keys.wait,
      keys.active,
      keys.prioritized,
      keys.delayed,
      keys.meta,
      keys.events,
      keys.marker,
      keys.slots,
    ],
    [
      args.token,
      args.podId,
      args.leaseTtlMs,
      keys.jobPrefix,
      args.maxStalledCount,
      args.mode,
      args.slots,
      args.wakeKeyPrefix,
      args.ref,
    ],
  );
}

export function decodeClaim(raw: unknown): ClaimReply {
  const reply = raw as unknown[];
  switch (Number(reply[0])) {
    case 1:
      return {
        kind: 'claimed',
        fence: Number(reply[1]),
        recovered: Number(reply[2]),
        slot: Number(reply[3]),
      };
    case 0:
      return { kind: 'held', pod: String(reply[1]), wake: Number(reply[2]) as 0 | 1 | 2 };
    case 2:
      return { kind: 'free' };
    default:
      return { kind: 'no-work' };
  }
}

export async function claim(
  target: ScriptTarget,
  keys: EntityKeys,
  args: ClaimArgs,
): Promise<ClaimReply> {
  return decodeClaim(await sendClaim(target, keys, args));
}
