import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChainableCommander } from 'ioredis';
import { LIBRARY_VERSION } from '../version';
import type { RedisClient } from './connections';

/** The Lua scripts of the engine (files in ./lua, named `<name>-<numKeys>.lua` when fixed). */
export const SCRIPT_FILES = {
  add: 'add-8.lua',
  addMany: 'addMany-7.lua',
  await: 'await-3.lua',
  beat: 'beat-2.lua',
  claim: 'claim-11.lua',
  due: 'due-1.lua',
  entityState: 'entityState-9.lua',
  extendLeases: 'extendLeases.lua',
  failedPage: 'failedPage-1.lua',
  idle: 'idle-8.lua',
  inspect: 'inspect-6.lua',
  reclaimOwn: 'reclaimOwn-4.lua',
  recordAttempt: 'recordAttempt-4.lua',
  release: 'release-7.lua',
  removeFailed: 'removeFailed-3.lua',
  relinquish: 'relinquish-7.lua',
  rest: 'rest-14.lua',
  retryFailed: 'retryFailed-5.lua',
  setTrace: 'setTrace-1.lua',
  signal: 'signal-1.lua',
  skipNext: 'skipNext-4.lua',
  step: 'step-4.lua',
  touchIndex: 'touchIndex-1.lua',
  unindex: 'unindex-1.lua',
} as const;

export type ScriptName = keyof typeof SCRIPT_FILES;

/** Where a script call goes: a connection, or a pipeline that queues it. */
export type ScriptTarget = RedisClient | ChainableCommander;

type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

const LUA_DIR = join(__dirname, 'lua');
// Versioned command names let two versions of the library share one Redis.
const COMMAND_SUFFIX = LIBRARY_VERSION.replace(/[^0-9A-Za-z]/g, '_');
const INCLUDE = /^--- @include "([^"]+)"$/gm;

function loadLua(file: string, seen = new Set<string>()): string {
  const source = readFileSync(join(LUA_DIR, file), 'utf8');
  return source.replace(INCLUDE, (_line, include: string) => {
    if (seen.has(include)) return '';
    seen.add(include);
    return loadLua(`${include}.lua`, seen);
  });
}

let sources: Record<ScriptName, string> | undefined;
function scriptSources(): Record<ScriptName, string> {
  sources ??= Object.fromEntries(
    Object.entries(SCRIPT_FILES).map(([name, file]) => [name, loadLua(file)]),
  ) as Record<ScriptName, string>;
  return sources;
}

/** A script's source as loaded, includes expanded (EVALSHA names it by its SHA1). */
export function scriptSource(name: ScriptName): string {
  return scriptSources()[name];
}

function commandName(name: ScriptName): string {
  return `aq_${name}_${COMMAND_SUFFIX}`;
}

/**
 * Registers the scripts on a client with ioredis `defineCommand` (EVALSHA with NOSCRIPT
 * recovery). Safe to call more than once on the same client.
 */
export function defineScripts(client: RedisClient): void {
  const src = scriptSources();
  for (const name of Object.keys(SCRIPT_FILES) as ScriptName[]) {
    if (typeof (client as unknown as Record<string, unknown>)[commandName(name)] === 'function')
      continue;
    // No fixed numberOfKeys: every call passes it first, so variadic scripts fit too.
    client.defineCommand(commandName(name), { lua: src[name] });
  }
}

/**
 * Runs a script on a client or queues it on a pipeline (then the promise settles with the
 * pipeline). Called only by the typed wrappers in ./scripts, which own each script's contract.
 */
export function runScript(
  target: ScriptTarget,
  name: ScriptName,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  const fn = (target as unknown as Record<string, ScriptCall>)[commandName(name)];
  if (typeof fn !== 'function') throw new Error(`Script ${name} is not defined on this client`);
  return fn.call(target, keys.length, ...keys, ...args);
}
