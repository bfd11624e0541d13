/** A results grid for `notes`: one row per measurement, aligned columns, numbers right-aligned. */
export function renderGrid(header: string[], rows: (string | number | null)[][]): string {
  const text = (v: string | number | null): string =>
    v === null
      ? '-'
      : typeof v === 'number'
        ? v.toLocaleString('en-US', { maximumFractionDigits: 2 })
        : v;
  const cells = rows.map((r) => r.map(text));
  const numeric = header.map((_, i) => rows.every((r) => typeof r[i] !== 'string'));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string =>
    c
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
