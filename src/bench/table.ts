/** Plain-text tables for the benchmark output: readable in a terminal and in a pasted report. */

/** A titled table; numbers are right-aligned, text left-aligned. */
export interface Table {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  /** Lines printed under the table (what a column means, caveats). */
  notes?: string[];
}

/** The table as text, with a title line, a header and a rule. */
export function renderTable(table: Table): string {
  const cells = table.rows.map((row) => row.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = table.columns.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = table.columns.map((_, i) => table.rows.every((r) => typeof r[i] === 'number'));
  const line = (row: string[]) =>
    row
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = [
    `== ${table.title}`,
    line(table.columns),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map(line),
  ];
  for (const note of table.notes ?? []) out.push(`   ${note}`);
  return out.join('\n');
}

/** A number with sensible precision for a table: 3 significant digits below 100, integers above. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 100 || Number.isInteger(n)) return Math.round(n).toLocaleString('en-US');
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}
