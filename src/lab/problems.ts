// Problems as the parser collects them, and the file line each is on: of a YAML node by its path, of a
// YAML syntax error, of a schema issue by the path zod gives.
import { isMap, isNode, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type * as z from 'zod';
import type { Position, Problem } from './model.js';

/** Records a problem; `line` and `column` are 1-based in the lab file. */
export type Report = (line: number, message: string, example?: string, column?: number) => void;

/** The 1-based file line of the YAML node at this path. */
export type LineOf = (path: (string | number)[]) => number;

/** The 1-based line and column of the YAML node at this path: of its key in a mapping, unless `value` is asked for. */
export type PositionOf = (path: (string | number)[], of?: 'key' | 'value') => Required<Position>;

/** Every problem reported, in the order reported. */
export function collectProblems(file: string): { problems: Problem[]; report: Report } {
  const problems: Problem[] = [];
  const report: Report = (line, message, example, column) =>
    problems.push({ file, line, message, ...(example ? { example } : {}), ...(column ? { column } : {}) });
  return { problems, report };
}

/**
 * Parses YAML that starts on `firstLine` of the file, reporting its syntax errors as `what: ...` (with
 * their column when `columns` is set), and an alias with no anchor before it, which the yaml package
 * would only throw about when converting.
 */
export function parseYaml(
  source: string,
  firstLine: number,
  what: string,
  report: Report,
  { columns = false } = {},
): { doc: Document; lineOf: LineOf; positionOf: PositionOf; broken: boolean } {
  const counter = new LineCounter();
  const doc = parseDocument(source, { lineCounter: counter, prettyErrors: true, uniqueKeys: true });
  for (const error of doc.errors) {
    const at = error.linePos?.[0];
    report(firstLine + (at?.line ?? 1) - 1, `${what}: ${firstLineOf(error.message)}`, undefined, columns ? at?.col : undefined);
  }
  let broken = doc.errors.length > 0;
  visit(doc, {
    Alias(_key, alias) {
      if (alias.resolve(doc) !== undefined) return;
      const at = alias.range ? counter.linePos(alias.range[0]) : undefined;
      const line = at ? firstLine + at.line - 1 : firstLine;
      report(
        line,
        `${what}: the alias *${alias.source} names no anchor (&${alias.source}) set before it`,
        undefined,
        columns ? at?.col : undefined,
      );
      broken = true;
    },
  });
  const at = (offset: number) => {
    const { line, col } = counter.linePos(offset);
    return { line: firstLine + line - 1, column: col };
  };
  // The nearest node on the path that exists: a missing key is reported on its parent.
  const nearest = (path: (string | number)[]) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node: unknown = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) return { node, depth };
    }
    return undefined;
  };
  const lineOf: LineOf = (path) => {
    const found = nearest(path);
    return found?.node.range ? at(found.node.range[0]).line : firstLine;
  };
  const positionOf: PositionOf = (path, of = 'key') => {
    const found = nearest(path);
    if (!found?.node.range) return { line: firstLine, column: 1 };
    // A key's position is where it is written, not where its value starts (perhaps on the next line).
    const name = path[found.depth - 1];
    const parent: unknown = found.depth === 1 ? doc.contents : doc.getIn(path.slice(0, found.depth - 1), true);
    if (of === 'key' && found.depth > 0 && isMap(parent)) {
      const key: unknown = parent.items.find((pair) => isScalar(pair.key) && pair.key.value === name)?.key;
      if (isNode(key) && key.range) return at(key.range[0]);
    }
    return at(found.node.range[0]);
  };
  return { doc, lineOf, positionOf, broken };
}

/**
 * Reports a schema issue where the field it is about is, as `where: path: message`: on its line, and
 * at its column when `locate` gives one.
 */
export function reportIssue(
  issue: z.core.$ZodIssue,
  where: string,
  locate: (path: (string | number)[]) => number | Required<Position>,
  report: Report,
): void {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const at = path.length > 0 ? `${where}: ${path.join('.')}` : where;
  const place = (keyPath: (string | number)[], message: string) => {
    const found = locate(keyPath);
    if (typeof found === 'number') report(found, message);
    else report(found.line, message, undefined, found.column);
  };
  if (issue.code === 'unrecognized_keys') {
    place(
      [...path, issue.keys[0] ?? ''],
      `${at}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`,
    );
  } else if (issue.code === 'invalid_key') {
    // zod says only "Invalid key in record"; the key's own schema says what is wrong with it.
    place(path, `${at}: ${issue.issues[0]?.message ?? issue.message}`);
  } else {
    place(path, `${at}: ${issue.message}`);
  }
}

/** The message of a JSON.parse error. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function firstLineOf(message: string): string {
  return message.split('\n')[0] ?? message;
}
