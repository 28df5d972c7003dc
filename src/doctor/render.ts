// The doctor's findings as a table for people (✓ / ! / ✗, the check, what was found, the fix) or as
// the JSON document scripts read: {"ok", "checks": [{"id", "status", "found", "fix"}]}.
import { Chalk } from 'chalk';
import type { Diagnosis } from './diagnose.js';
import type { Status } from './finding.js';

const MARKS: Record<Status, string> = { ok: '✓', warn: '!', fail: '✗' };
/** Ids longer than this get their text on the next line instead of a wider table. */
const MAX_ID_WIDTH = 26;

export interface TableOptions {
  color: boolean;
  /** Wrap text to this many columns; undefined leaves lines long (output that is not a terminal). */
  width?: number;
}

export function renderTable(diagnosis: Diagnosis, { color, width }: TableOptions): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  const paint: Record<Status, (text: string) => string> = { ok: c.green, warn: c.yellow, fail: c.red };
  const idWidth = Math.min(MAX_ID_WIDTH, Math.max(...diagnosis.checks.map((check) => check.id.length)));
  const indent = ' '.repeat(idWidth + 6);
  const lines: string[] = [];
  for (const { id, status, found, fix } of diagnosis.checks) {
    const head = `  ${paint[status](MARKS[status])} ${id.padEnd(idWidth)}  `;
    if (id.length > idWidth) lines.push(head.trimEnd(), ...wrap(found, indent, width));
    else lines.push(...wrap(found, indent, width).map((line, i) => (i === 0 ? head + line.slice(indent.length) : line)));
    if (fix) lines.push(...wrap(`fix: ${fix}`, indent, width).map((line, i) => (i === 0 ? line.replace('fix:', c.cyan('fix:')) : line)));
  }
  const counts = (status: Status) => diagnosis.checks.filter((check) => check.status === status).length;
  const warnings = counts('warn') > 0 ? ` ${counts('warn')} warning${counts('warn') === 1 ? '' : 's'} (!).` : '';
  lines.push(
    '',
    diagnosis.ok
      ? c.green(`Every lab asked about can run here.`) + warnings
      : c.red(`Some labs cannot run here: fix the ${counts('fail')} ✗ row${counts('fail') === 1 ? '' : 's'}.`) + warnings,
  );
  return `${lines.join('\n')}\n`;
}

export function renderJson(diagnosis: Diagnosis): string {
  return `${JSON.stringify({ ok: diagnosis.ok, checks: diagnosis.checks }, null, 2)}\n`;
}

/** Breaks text into lines of at most `width` columns, each starting with `indent`; without a width, one line. */
function wrap(text: string, indent: string, width: number | undefined): string[] {
  if (!width || width <= indent.length + 20) return [indent + text];
  const room = width - indent.length;
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > room) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(indent + line);
  return lines;
}
