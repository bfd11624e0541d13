import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';

/** One entity as `entityState-9.lua` reads it. */
export interface StoredEntityState {
  /** Pod holding lease slot 0, or null. */
  pod: string | null;
  /** The lease's PTTL, ms; -2 when there is none. */
  leaseTtlMs: number;
  /** The holder marked the entity idle (nothing to run). */
  idle: boolean;
  /** The entity's last fencing token, or null when none is kept (an entity at rest). */
  fencingToken: number | null;
  waiting: number;
  active: number;
  prioritized: number;
  delayed: number;
  failed: number;
  completed: number;
  paused: boolean;
  /** When the next waiting job was enqueued (ms, Redis's clock), or null. */
  nextEnqueuedAt: number | null;
  /** Redis's clock when read, ms. */
  now: number;
}

/** Reads one entity's state (`entityState-9.lua`). */
export async function entityState(
  target: ScriptTarget,
  keys: EntityKeys,
): Promise<StoredEntityState> {
  return decodeEntityState(await sendEntityState(target, keys));
}

/** Queues {@link entityState} on a pipeline; decode its reply with {@link decodeEntityState}. */
export function sendEntityState(target: ScriptTarget, keys: EntityKeys): Promise<unknown> {
  return runScript(
    target,
    'entityState',
    [
      keys.lease,
      keys.fence,
      keys.wait,
      keys.active,
      keys.prioritized,
      keys.delayed,
      keys.failed,
      keys.completed,
      keys.meta,
    ],
    [keys.jobPrefix],
  );
}

/** The script's reply, decoded. */
export function decodeEntityState(raw: unknown): StoredEntityState {
  const r = raw as (string | number | null)[];
  const int = (i: number): number => Number(r[i] ?? 0);
  return {
    pod: r[0] === null ? null : String(r[0]),
    leaseTtlMs: int(1),
    idle: r[2] === '1',
    fencingToken: r[3] === null ? null : Number(r[3]),
    waiting: int(4),
    active: int(5),
    prioritized: int(6),
    delayed: int(7),
    failed: int(8),
    completed: int(9),
    paused: int(10) === 1,
    nextEnqueuedAt: int(11) < 0 ? null : int(11),
    now: int(12),
  };
}
