import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';

export type IdleReply =
  | { kind: 'lost' }
  | { kind: 'work' }
  /** Marked idle; `nextDelayedAt`: when the next delayed job is due (ms), 0 when none is. */
  | { kind: 'idle'; nextDelayedAt: number };

/** Marks the holder idle if nothing is ready (`idle-6.lua`), atomically. */
export async function markIdle(
  target: ScriptTarget,
  keys: EntityKeys,
  leaseKey: string,
  token: string,
  now: number,
): Promise<IdleReply> {
  const reply = (await runScript(
    target,
    'idle',
    [leaseKey, keys.wait, keys.prioritized, keys.delayed, keys.meta, keys.active],
    [token, now, keys.jobPrefix],
  )) as number[];
  if (reply[0] === -1) return { kind: 'lost' };
  if (reply[0] === 1) return { kind: 'work' };
  return { kind: 'idle', nextDelayedAt: Number(reply[1]) };
}
