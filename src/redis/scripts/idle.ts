import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';
import type { LeaseGuard } from './lease-guard';

export type IdleReply =
  | { kind: 'lost' }
  | { kind: 'work' }
  /**
   * Marked idle; `dueInMs`: until the next delayed job is due, by Redis's clock (0: none);
   * `watch`: the queue keeps failed jobs or is paused, so a BullMQ tool may put work in it
   * without waking anyone: call again after a while.
   */
  | { kind: 'idle'; dueInMs: number; watch: boolean };

/** Marks the holder idle if nothing is ready (`idle-8.lua`), atomically. */
export async function markIdle(
  target: ScriptTarget,
  keys: EntityKeys,
  guard: LeaseGuard,
): Promise<IdleReply> {
  const reply = (await runScript(
    target,
    'idle',
    [
      guard.leaseKey,
      keys.wait,
      keys.prioritized,
      keys.delayed,
      keys.meta,
      keys.active,
      keys.fence,
      keys.failed,
    ],
    [guard.token, keys.jobPrefix, guard.fence, guard.podId, guard.ttlMs],
  )) as number[];
  if (reply[0] === -1) return { kind: 'lost' };
  if (reply[0] === 1) return { kind: 'work' };
  return { kind: 'idle', dueInMs: Number(reply[1]), watch: reply[2] === 1 };
}
