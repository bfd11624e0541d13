/**
 * Optimal string alignment distance (Damerau-Levenshtein where a swap of two neighbours counts
 * as one edit, as in `lenght` → `length`).
 */
export function editDistance(a: string, b: string): number {
  // rows[i][j]: distance between the first i characters of a and the first j of b.
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i][j] = d;
    }
  }
  return rows[a.length][b.length];
}

/**
 * The known name `name` was most likely meant to be, or undefined when none is close: a typo
 * (case ignored, up to one edit per three characters), or a known name it starts or ends
 * (`idleTimeout` → `idleTimeoutSeconds`). Ties go to the first in `known`.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (bestDistance <= Math.max(1, Math.floor(name.length / 3))) return best;
  if (lower.length < 4) return undefined;
  return known.find((candidate) => {
    const other = candidate.toLowerCase();
    return other.length >= 4 && (other.startsWith(lower) || lower.startsWith(other));
  });
}
