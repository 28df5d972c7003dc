// Problems as the parser collects them, and the file line each is on: of a YAML node by its path, of a
// YAML syntax error, of a schema issue by the path zod gives.
import { isNode, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type * as z from 'zod';
import type { Problem } from './model.js';

/** Records a problem; `line` and `column` are 1-based in the lab file. */
export type Report = (line: number, message: string, example?: string, column?: number) => void;

/** The 1-based file line of the YAML node at this path. */
export type LineOf = (path: (string | number)[]) => number;

/** Every problem reported, in the order reported. */
export function collectProblems(file: string): { problems: Problem[]; report: Report } {
  const problems: Problem[] = [];
  const report: Report = (line, message, example, column) =>
    problems.push({ file, line, message, ...(example ? { example } : {}), ...(column ? { column } : {}) });
  return { problems, report };
}

/**
 * Parses YAML that starts on `firstLine` of the file, reporting its syntax errors as `what: ...`, and
 * an alias with no anchor before it, which the yaml package would only throw about when converting.
 */
export function parseYaml(
  source: string,
  firstLine: number,
  what: string,
  report: Report,
): { doc: Document; lineOf: LineOf; broken: boolean } {
  const counter = new LineCounter();
  const doc = parseDocument(source, { lineCounter: counter, prettyErrors: true, uniqueKeys: true });
  for (const error of doc.errors) report(firstLine + (error.linePos?.[0].line ?? 1) - 1, `${what}: ${firstLineOf(error.message)}`);
  let broken = doc.errors.length > 0;
  visit(doc, {
    Alias(_key, alias) {
      if (alias.resolve(doc) !== undefined) return;
      const line = alias.range ? firstLine + counter.linePos(alias.range[0]).line - 1 : firstLine;
      report(line, `${what}: the alias *${alias.source} names no anchor (&${alias.source}) set before it`);
      broken = true;
    },
  });
  const lineOf: LineOf = (path) => {
    // Walk up to the nearest node that exists (a missing key is reported on its parent's line).
    for (let depth = path.length; depth >= 0; depth--) {
      const node: unknown = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
      const range = isNode(node) ? node.range : undefined;
      if (range) return firstLine + counter.linePos(range[0]).line - 1;
    }
    return firstLine;
  };
  return { doc, lineOf, broken };
}

/** Reports a schema issue on the line of the field it is about, as `where: path: message`. */
export function reportIssue(issue: z.core.$ZodIssue, where: string, lineOf: LineOf, report: Report): void {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const at = path.length > 0 ? `${where}: ${path.join('.')}` : where;
  if (issue.code === 'unrecognized_keys') {
    report(
      lineOf([...path, issue.keys[0] ?? '']),
      `${at}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`,
    );
  } else {
    report(lineOf(path), `${at}: ${issue.message}`);
  }
}

/** The message of a JSON.parse error. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function firstLineOf(message: string): string {
  return message.split('\n')[0] ?? message;
}
