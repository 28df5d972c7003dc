// parseLab: Markdown text → Lab model, or every problem found, each with file:line (and column).
// Pure: no file system, no terminal. Scanned (scan.ts), built (build.ts), then validated (validate.ts).
import type { Lab, Problem } from './model.js';
import { buildStep, readFrontMatter } from './build.js';
import { collectProblems } from './problems.js';
import { findFrontMatter, scanBody, splitLines } from './scan.js';
import { validateLab } from './validate.js';

export type ParseResult = { ok: true; lab: Lab } | { ok: false; problems: Problem[] };

export function parseLab(text: string, file: string): ParseResult {
  const { problems, report } = collectProblems(file);
  const lines = splitLines(text);
  const located = findFrontMatter(lines, report);
  if (!located) return { ok: false, problems };
  const front = readFrontMatter(located, report);
  if (front.tooNew) return { ok: false, problems };

  const body = scanBody(lines, located.endLine, report);
  const steps = body.steps.map((step) => buildStep(step, report));
  validateLab({ steps, variables: front.header?.variables ?? [], lineOf: front.lineOf, bodyLine: located.endLine + 1 }, report);

  if (problems.length > 0 || !front.header) return { ok: false, problems: problems.sort((a, b) => a.line - b.line) };
  return { ok: true, lab: { file, ...front.header, intro: body.intro, steps } };
}
