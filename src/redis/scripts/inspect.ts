import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';

export interface Inspection {
  /** Largest lease PTTL among the slots, ms; -2 when no slot is held. */
  pttl: number;
  /** The queue has work (waiting, prioritized, delayed or active; not paused). */
  work: boolean;
  /** An active job has lost its lock: its holder died. */
  orphan: boolean;
}

/** What the safety sweep needs to know about one entity (`inspect-6.lua`). */
export async function inspect(
  target: ScriptTarget,
  keys: EntityKeys,
  slots: number,
): Promise<Inspection> {
  const [pttl, work, orphan] = (await runScript(
    target,
    'inspect',
    [keys.lease, keys.wait, keys.active, keys.prioritized, keys.delayed, keys.meta],
    [keys.jobPrefix, slots],
  )) as number[];
  return { pttl, work: work === 1, orphan: orphan === 1 };
}

/** KEYS of the release and relinquish scripts, in their order. */
export function guardedStateKeys(keys: EntityKeys, leaseKey: string): string[] {
  return [leaseKey, keys.wait, keys.active, keys.prioritized, keys.delayed, keys.meta, keys.fence];
}

/** ARGV of the release and relinquish scripts. */
export function guardArgs(guard: {
  token: string;
  fence: string;
  podId: string;
  ttlMs: number;
}): (string | number)[] {
  return [guard.token, guard.fence, guard.podId, guard.ttlMs];
}
