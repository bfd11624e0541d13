import { runScript, type ScriptTarget } from '../script-loader';

/** The members of a time-scored set that are due by Redis's clock, with their scores as read. */
export interface Due {
  now: number;
  entries: { member: string; score: string }[];
}

/** `due-1.lua`: up to `limit` due members of `key`, oldest first. */
export async function due(target: ScriptTarget, key: string, limit: number): Promise<Due> {
  const raw = (await runScript(target, 'due', [key], [limit])) as [number, ...string[]];
  const entries: Due['entries'] = [];
  for (let i = 1; i + 1 < raw.length; i += 2)
    entries.push({ member: String(raw[i]), score: String(raw[i + 1]) });
  return { now: Number(raw[0]), entries };
}
