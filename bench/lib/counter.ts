import type { Redis } from 'ioredis';
import { sleep } from '../../support/async';

/**
 * The "store" of the comparison workloads: one counter per entity in Redis, under
 * `<prefix>:ctr:<entity>` (so `cleanPrefix(prefix)` removes it with the run's other keys).
 */
export function counterKey(prefix: string, entityId: string): string {
  return `${prefix}:ctr:${entityId}`;
}

/**
 * One operation: read the counter, wait `ioMs` (simulated I/O), write it back plus one. Racy on
 * purpose: two of these on one entity at once lose an increment, so any missing exclusion shows
 * as drift. `ioMs` 0 skips the wait (read → write back to back).
 */
export async function racyIncrement(store: Redis, key: string, ioMs: number): Promise<void> {
  await racyAdd(store, key, 1, ioMs);
}

/** Read → wait `ioMs` (0: none) → write back plus `delta`; returns the value written. */
export async function racyAdd(
  store: Redis,
  key: string,
  delta: number,
  ioMs: number,
): Promise<number> {
  const value = Number((await store.get(key)) ?? 0) + delta;
  if (ioMs > 0) await sleep(ioMs);
  await store.set(key, String(value));
  return value;
}

/** Every counter's value, in the order of `entityIds` (a missing counter reads 0). */
export async function readCounters(
  client: Redis,
  prefix: string,
  entityIds: readonly string[],
): Promise<number[]> {
  const values: number[] = [];
  for (let from = 0; from < entityIds.length; from += 1000) {
    const keys = entityIds.slice(from, from + 1000).map((id) => counterKey(prefix, id));
    for (const v of await client.mget(...keys)) values.push(Number(v ?? 0));
  }
  return values;
}

/** Summed absolute drift: Σ |expected − counter| over the entities. */
export async function counterDrift(
  client: Redis,
  prefix: string,
  entityIds: readonly string[],
  expectedEach: number,
): Promise<{ drift: number; entitiesWithDrift: number }> {
  const values = await readCounters(client, prefix, entityIds);
  let drift = 0;
  let entitiesWithDrift = 0;
  for (const v of values) {
    drift += Math.abs(expectedEach - v);
    if (v !== expectedEach) entitiesWithDrift += 1;
  }
  return { drift, entitiesWithDrift };
}
