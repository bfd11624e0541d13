import { runScript, type ScriptTarget } from '../script-loader';

/**
 * Offers entities in the spawn set, or wakes an idle holder through its wake set
 * (`signal-1.lua`): adds the refs scored with Redis's clock, keeping earlier scores.
 */
export async function signal(
  target: ScriptTarget,
  key: string,
  refs: readonly string[],
): Promise<void> {
  await runScript(target, 'signal', [key], refs);
}
