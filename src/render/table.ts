// Markdown tables fitted to the terminal: column widths that add up to no more than the width the
// prose wraps at, and cells wrapped within them, instead of rows that run past the edge and break.
import Table from 'cli-table3';

/** cli-table3's padding: one space on either side of a cell's text. */
const PADDING = 2;

/** What a column's cells need: `widest` for their longest line, `longestWord` not to cut a word. */
export interface ColumnNeeds {
  widest: number;
  longestWord: number;
}

/**
 * Column widths (padding included) within `width` columns of terminal, borders included: each column
 * as wide as its widest cell while that fits; else the widest columns are narrowed to one width, the
 * largest that fits, but never below their longest word (cli-table3 would cut it short), so that a
 * table whose words cannot fit runs past `width` rather than lose text. Pure.
 */
export function fitColumns(columns: readonly ColumnNeeds[], width: number): number[] {
  const budget = width - (columns.length + 1);
  const sized = (cap: number) => columns.map(({ widest, longestWord }) => Math.max(longestWord, Math.min(widest, cap)) + PADDING);
  const total = (cap: number) => sized(cap).reduce((sum, w) => sum + w, 0);
  const widest = Math.max(0, ...columns.map((c) => c.widest));
  if (total(widest) <= budget) return sized(widest);
  let cap = 0;
  while (cap < widest && total(cap + 1) <= budget) cap++;
  return sized(cap);
}

/** A table of cells already rendered (styled inline text), drawn by cli-table3 within `width`. */
export function drawTable(header: readonly string[], rows: readonly (readonly string[])[], width: number, color: boolean): string {
  const cells = [header, ...rows];
  const plain = cells.map((row) => row.map(withoutEscapes));
  const columns = header.map((_, i) => ({
    widest: Math.max(0, ...plain.map((row) => longest((row[i] ?? '').split('\n')))),
    longestWord: Math.max(0, ...plain.map((row) => longest((row[i] ?? '').split(/\s+/)))),
  }));
  const colWidths = fitColumns(columns, width);
  const table = new Table({
    head: [...header],
    colWidths,
    wordWrap: true,
    // cli-table3 colours its borders and header unless told not to.
    ...(color ? {} : { style: { head: [], border: [] } }),
  });
  table.push(...rows.map((row) => [...row]));
  return table.toString();
}

/** Text as the terminal shows it: colour sequences take no room. */
function withoutEscapes(text: string): string {
  // eslint-disable-next-line no-control-regex -- terminal colour sequences are exactly what is removed
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

const longest = (parts: readonly string[]) => Math.max(0, ...parts.map((part) => part.length));
