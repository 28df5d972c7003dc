// Error types shared by every module. The CLI maps them to exit codes; nothing else decides the exit status.
import type { Problem } from './lab/model.js';

/** The user asked for something that cannot be done as asked (exit 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A lab file is not valid; carries every problem found, each with file:line (exit 2). */
export class LabError extends Error {
  override name = 'LabError';
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/** What ocilab says when a lab stops before its end: nothing is lost, and how to go on. */
export const STOPPED = (labId: string) => `Stopped. Your progress is saved; \`ocilab run ${labId}\` goes on from here.`;

/** The user pressed Ctrl-C or chose Quit (exit 130). */
export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor(message = 'Cancelled.') {
    super(message);
  }
}

/** Something outside ocilab failed in a way the user can act on; the message says what to do (exit 1). */
export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
}

export function formatProblem(p: Problem): string {
  const where = p.column ? `${p.file}:${p.line}:${p.column}` : `${p.file}:${p.line}`;
  return p.example ? `${where}: ${p.message}\n    e.g. ${p.example}` : `${where}: ${p.message}`;
}
