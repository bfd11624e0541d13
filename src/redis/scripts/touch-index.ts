import { runScript, type ScriptTarget } from '../script-loader';

/** How {@link touchIndex} writes: add or update, update only (`XX`), add only (`NX`). */
export type TouchMode = '' | 'XX' | 'NX';

/**
 * Scores members of a shared sorted set (the sweep index, the rest set) with Redis's clock plus
 * a delay each (`touchIndex-1.lua`). Resolves with Redis's now (ms): member i got now + delay i.
 */
export async function touchIndex(
  target: ScriptTarget,
  key: string,
  mode: TouchMode,
  entries: ReadonlyArray<readonly [delayMs: number, member: string]>,
): Promise<number> {
  return Number(await sendTouchIndex(target, key, mode, entries));
}

/** Queues {@link touchIndex} on a pipeline. */
export function sendTouchIndex(
  target: ScriptTarget,
  key: string,
  mode: TouchMode,
  entries: ReadonlyArray<readonly [delayMs: number, member: string]>,
): Promise<unknown> {
  const args: (string | number)[] = [mode];
  for (const [delay, member] of entries) args.push(delay, member);
  return runScript(target, 'touchIndex', [key], args);
}
