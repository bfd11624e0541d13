/**
 * Reproducible randomness: a run prints its seed, and the same seed replays it. Dev-only (see
 * support/README.md).
 */

/** A small seeded PRNG (mulberry32) returning numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A test run's PRNG seed: AQ_TEST_SEED if set (to replay a failure), else a fresh one. */
export function testSeed(): number {
  const fromEnv = Number(process.env.AQ_TEST_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0
    ? fromEnv
    : Math.floor(Math.random() * 2 ** 31) + 1;
}
