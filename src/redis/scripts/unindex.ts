import { runScript, type ScriptTarget } from '../script-loader';

/**
 * Removes an entity from the sweep index only if its score is still `score` (`unindex-1.lua`):
 * a claim or an enqueue that touched the entry since keeps it. Resolves true when removed.
 */
export async function unindex(
  target: ScriptTarget,
  indexKey: string,
  ref: string,
  score: string,
): Promise<boolean> {
  return Number(await runScript(target, 'unindex', [indexKey], [ref, score])) === 1;
}
