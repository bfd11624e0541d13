import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';
import type { KeepArgs } from './keep';

export type RestReply =
  /**
   * At rest: look again in `nextMs` (-1: nothing expires); `failed` jobs are kept; `watch`: a
   * BullMQ tool may put work in it that wakes nobody (failed jobs, or paused with jobs waiting).
   */
  | { kind: 'rest'; nextMs: number; failed: number; watch: boolean }
  /** Held by a pod: its release hands it back. */
  | { kind: 'held' }
  /** Work and no holder (a BullMQ tool put a job back): claim it. */
  | { kind: 'work' }
  /** Nothing left: every key of the entity is gone. */
  | { kind: 'gone' };

/**
 * Looks after an entity at rest (`rest-14.lua`): retention of its finished jobs by Redis's
 * clock, clean-up of what only a live queue needs, and work put back by a BullMQ tool.
 */
export async function rest(
  target: ScriptTarget,
  keys: EntityKeys,
  slots: number,
  keep: { completed: KeepArgs; failed: KeepArgs },
): Promise<RestReply> {
  const raw = (await runScript(
    target,
    'rest',
    [
      keys.lease,
      keys.wait,
      keys.active,
      keys.prioritized,
      keys.delayed,
      keys.meta,
      keys.completed,
      keys.failed,
      keys.events,
      keys.marker,
      keys.id,
      keys.fence,
      keys.slots,
      keys.stalled,
    ],
    [
      keys.jobPrefix,
      slots,
      keep.completed[0],
      keep.completed[1],
      keep.failed[0],
      keep.failed[1],
      Math.max(keep.completed[2], keep.failed[2]),
    ],
  )) as number[];
  switch (Number(raw[0])) {
    case 0:
      return {
        kind: 'rest',
        nextMs: Number(raw[1]),
        failed: Number(raw[2]),
        watch: Number(raw[3]) === 1,
      };
    case 1:
      return { kind: 'held' };
    case 2:
      return { kind: 'work' };
    default:
      return { kind: 'gone' };
  }
}
