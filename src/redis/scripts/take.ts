import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';
import type { LeaseGuard } from './lease-guard';

export type TakeReply =
  | { kind: 'lost' }
  | { kind: 'none' }
  | { kind: 'fetch' }
  /** The job's raw hash and id (BullMQ's fetch reply, for `raw2NextJobData`). */
  | { kind: 'job'; raw: unknown[] };

/**
 * Takes the entity's next job for its lease holder (`take-9.lua`); 'fetch' leaves it to
 * BullMQ's moveToActive (a prioritized job or a legacy marker is next), 'lost' when the lease is
 * not the holder's any more.
 */
export async function take(
  target: ScriptTarget,
  keys: EntityKeys,
  guard: LeaseGuard,
): Promise<TakeReply> {
  const raw = (await runScript(
    target,
    'take',
    [
      keys.wait,
      keys.active,
      keys.events,
      keys.meta,
      keys.delayed,
      keys.prioritized,
      keys.marker,
      guard.leaseKey,
      keys.fence,
    ],
    [keys.jobPrefix, guard.token, guard.ttlMs, guard.fence, guard.podId],
  )) as [number, unknown?, string?];
  switch (Number(raw[0])) {
    case -1:
      return { kind: 'lost' };
    case 1:
      return { kind: 'fetch' };
    case 2:
      return { kind: 'job', raw: [raw[1], raw[2]] };
    default:
      return { kind: 'none' };
  }
}
