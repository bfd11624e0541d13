import { runScript, type ScriptTarget } from '../script-loader';

/** What one heartbeat reads back from the registry, by Redis's clock. */
export interface BeatReply {
  /** Redis's now, ms: the entries' times are on the same clock. */
  now: number;
  /** Entities waiting in the spawn set. */
  pendingSpawns: number;
  /** pod id -> `owned|processing|time` */
  entries: Record<string, string>;
}

/**
 * Records a pod's heartbeat in the registry and reads the registry back (`beat-2.lua`); entries
 * older than `goneAfterMs` are deleted on the way.
 */
export async function beat(
  target: ScriptTarget,
  keys: { pods: string; spawn: string },
  entry: { podId: string; owned: number; processing: boolean; goneAfterMs: number },
): Promise<BeatReply> {
  const raw = (await runScript(
    target,
    'beat',
    [keys.pods, keys.spawn],
    [entry.podId, entry.owned, entry.processing ? 1 : 0, entry.goneAfterMs],
  )) as [number, number, ...string[]];
  const entries: Record<string, string> = {};
  for (let i = 2; i + 1 < raw.length; i += 2) entries[String(raw[i])] = String(raw[i + 1]);
  return { now: Number(raw[0]), pendingSpawns: Number(raw[1]), entries };
}
