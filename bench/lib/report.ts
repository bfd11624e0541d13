import * as fs from 'node:fs';
import * as path from 'node:path';

/** One line of the printed table. `ok` is shown as PASS/FAIL next to its target. */
export interface TableRow {
  metric: string;
  value: number | string | null;
  unit?: string;
  target?: string;
  ok?: boolean | null;
}

function format(value: TableRow['value']): string {
  if (value === null) return '-';
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value.toLocaleString('en-US');
    return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
  }
  return value;
}

/** The rows as an aligned text table. */
export function renderTable(rows: TableRow[]): string {
  const cells = rows.map((r) => [
    r.metric,
    format(r.value),
    r.unit ?? '',
    r.target ?? '',
    r.ok === undefined ? '' : r.ok === null ? 'n/a' : r.ok ? 'PASS' : 'FAIL',
  ]);
  const header = ['metric', 'value', 'unit', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string =>
    c
      .map((v, i) => (i === 1 ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** Writes the result object as JSON, creating the folder if needed. */
export function writeJson(file: string, result: Record<string, unknown>): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
}
