// The exit statuses of ocilab, and the error types shared by every module, each carrying its own.
// Only cli/main.ts turns an error into an exit status, by reading `exitStatus`; nothing re-maps errors.
import type { Problem } from './lab/model.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;

/** The user asked for something that cannot be done as asked. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitStatus = EXIT.usage;
}

/** A lab file is not valid; carries every problem found, each with file:line. */
export class LabError extends Error {
  override name = 'LabError';
  readonly exitStatus = EXIT.usage;
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/** A workshop file, or a lab it names, is not valid; carries every problem found, each with file:line. */
export class WorkshopError extends Error {
  override name = 'WorkshopError';
  readonly exitStatus = EXIT.usage;
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/** What ocilab says when a lab stops before its end: nothing is lost, and how to go on. */
export const STOPPED = (labId: string) => `Stopped. Your progress is saved; \`ocilab run ${labId}\` goes on from here.`;

/** The user pressed Ctrl-C or chose Quit. */
export class CancelledError extends Error {
  override name = 'CancelledError';
  readonly exitStatus = EXIT.cancelled;
  constructor(message = 'Cancelled.') {
    super(message);
  }
}

/** Something outside ocilab failed in a way the user can act on; the message says what to do. */
export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
  readonly exitStatus = EXIT.failed;
}

export function formatProblem(p: Problem): string {
  const where = p.column ? `${p.file}:${p.line}:${p.column}` : `${p.file}:${p.line}`;
  return p.example ? `${where}: ${p.message}\n    e.g. ${p.example}` : `${where}: ${p.message}`;
}
