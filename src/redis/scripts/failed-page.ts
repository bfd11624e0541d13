import type { EntityKeys } from '../keys';
import { runScript, type ScriptTarget } from '../script-loader';

/** One failed job as `failedPage-1.lua` reads it (the stored fields, unparsed). */
export interface StoredFailedJob {
  id: string;
  name: string;
  /** The job's data, JSON as BullMQ stores it. */
  data: string | null;
  failedReason: string | null;
  attemptsMade: number;
  finishedOn: number | null;
  /** The engine's stored error (JSON of name, message, stack, cause, fields), if any. */
  error: string | null;
}

/** A page of an entity's failed jobs, oldest failure first (`failedPage-1.lua`). */
export async function failedPage(
  target: ScriptTarget,
  keys: EntityKeys,
  offset: number,
  limit: number,
): Promise<{ total: number; jobs: StoredFailedJob[] }> {
  const raw = (await runScript(
    target,
    'failedPage',
    [keys.failed],
    [keys.jobPrefix, offset, limit],
  )) as (string | number | null)[];
  const jobs: StoredFailedJob[] = [];
  for (let i = 1; i + 6 < raw.length; i += 7) {
    const [id, name, data, failedReason, atm, finishedOn, aqe] = raw.slice(i, i + 7);
    jobs.push({
      id: String(id),
      name: String(name),
      data: data === null ? null : String(data),
      failedReason: failedReason === null ? null : String(failedReason),
      attemptsMade: Number(atm ?? 0),
      finishedOn: finishedOn === null ? null : Number(finishedOn),
      error: aqe === null ? null : String(aqe),
    });
  }
  return { total: Number(raw[0]), jobs };
}
