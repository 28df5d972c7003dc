// JSON edits of workspace files: set values at dotted paths, keep the file's indentation, show a diff.
import type { Edit } from '../lab/model.js';
import { expand } from '../lab/variables.js';

export interface PlannedEdit {
  before: string;
  after: string;
  diff: string;
}

/**
 * Computes the new text of a JSON file with the edit's values set, `${name}` in their strings replaced
 * by the lab variable's value. Throws on invalid JSON.
 */
export function planEdit(text: string, edit: Edit, vars: Record<string, string> = {}): PlannedEdit {
  const data: unknown = JSON.parse(text);
  for (const [path, value] of Object.entries(edit.set)) setPath(data, path, expandValue(value, vars));
  const after = `${JSON.stringify(data, null, detectIndent(text))}\n`;
  return { before: text, after, diff: lineDiff(text, after) };
}

/** A JSON value with `${name}` expanded in every string of it (a cgroup path named after the container). */
function expandValue(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string') return expand(value, vars);
  if (Array.isArray(value)) return value.map((entry) => expandValue(entry, vars));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, expandValue(entry, vars)]));
  }
  return value;
}

/** `namespaces[type=pid]`: the entry of the array `namespaces` whose `type` is "pid". */
const SELECTOR = /^(.+)\[([^=\]]+)=([^\]]*)\]$/;

/**
 * Sets `value` at a dotted path such as `root.readonly`, creating objects on the way. A last key such
 * as `namespaces[type=pid]` names the entries of an array by one field: `null` removes them, another
 * value replaces them, or is appended when there is none.
 */
export function setPath(target: unknown, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target as Record<string, unknown>;
  keys.slice(0, -1).forEach((key) => {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  });
  const last = keys[keys.length - 1] as string;
  const selected = SELECTOR.exec(last);
  if (!selected) {
    node[last] = value;
    return;
  }
  const [, key, field, wanted] = selected as unknown as [string, string, string, string];
  const array = Array.isArray(node[key]) ? (node[key] as unknown[]) : [];
  const matches = (entry: unknown) =>
    typeof entry === 'object' && entry !== null && String((entry as Record<string, unknown>)[field]) === wanted;
  const kept = array.filter((entry) => !matches(entry));
  if (value === null) node[key] = kept;
  else if (kept.length === array.length) node[key] = [...array, value];
  else node[key] = array.flatMap((entry) => (matches(entry) ? (entry === array.find(matches) ? [value] : []) : [entry]));
}

function detectIndent(text: string): string | number {
  const indented = /^([ \t]+)\S/m.exec(text);
  if (!indented) return 2;
  const indent = indented[1] as string;
  return indent.startsWith('\t') ? '\t' : indent.length;
}

const CONTEXT = 2;

/** A unified-style line diff (`-`/`+`/` ` prefixes, `…` between distant hunks), enough for config files. */
export function lineDiff(before: string, after: string): string {
  const a = before.replace(/\n$/, '').split('\n');
  const b = after.replace(/\n$/, '').split('\n');
  // lcs[i][j]: the length of the longest common subsequence of a[i..] and b[j..]; 0 past either end.
  const lcs: number[][] = [];
  const common = (i: number, j: number): number => lcs[i]?.[j] ?? 0;
  for (let i = a.length - 1; i >= 0; i--) {
    const row: number[] = [];
    lcs[i] = row;
    for (let j = b.length - 1; j >= 0; j--)
      row[j] = a[i] === b[j] ? common(i + 1, j + 1) + 1 : Math.max(common(i + 1, j), common(i, j + 1));
  }
  const ops: { kind: ' ' | '-' | '+'; text: string }[] = [];
  let i = 0;
  let j = 0;
  for (;;) {
    const left = a[i];
    const right = b[j];
    if (left !== undefined && left === right) {
      ops.push({ kind: ' ', text: left });
      i++;
      j++;
    } else if (left !== undefined && (right === undefined || common(i + 1, j) >= common(i, j + 1))) {
      ops.push({ kind: '-', text: left });
      i++;
    } else if (right !== undefined) {
      ops.push({ kind: '+', text: right });
      j++;
    } else break;
  }
  const near = ops.map((_, k) => ops.slice(Math.max(0, k - CONTEXT), k + CONTEXT + 1).some((op) => op.kind !== ' '));
  const out: string[] = [];
  ops.forEach((op, k) => {
    if (near[k]) out.push(`${op.kind} ${op.text}`);
    else if (near[k - 1]) out.push('…');
  });
  return out.join('\n');
}
