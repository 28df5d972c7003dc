// What a check returns and what it may use. A failed check is a value; `error` means it could not run,
// `skipped` that it does not apply on this machine (its `skip.if` succeeded).
import type { Check, CheckFact } from '../lab/model.js';
import type { Privilege } from '../sys/privilege.js';

/** What a check returns. `facts`: what it found out beyond passed or failed, for the lab's diagnoses to match. */
export type CheckResult =
  | { status: 'passed'; message: string }
  | { status: 'failed'; message: string; expected: string; actual: string; hint?: string; facts?: CheckFact[] }
  | { status: 'error'; message: string; hint?: string; facts?: CheckFact[] }
  | { status: 'skipped'; message: string };

/** A check with its result, as `runCheck` gives it and the runner passes it on. */
export type JudgedCheck = CheckResult & { check: Check };

export type CheckStatus = CheckResult['status'];

/** A check that passed or does not apply here: neither keeps its step from passing. The others carry a hint and facts. */
export function isSettled<R extends { status: CheckStatus }>(result: R): result is Extract<R, { status: 'passed' | 'skipped' }> {
  return result.status === 'passed' || result.status === 'skipped';
}

export interface CheckContext {
  /** The lab's workspace: relative paths in checks start here, and commands run here. */
  workdir: string;
  /** Resolved lab variables; strings in checks may refer to them as `${name}`. */
  vars: Record<string, string>;
  /** Output of the step's own command, when ocilab ran it in this session. */
  stepOutput?: string;
  /** The commands the learner typed for this step in ocilab's shell, oldest first (see `outputOf`). */
  typed?: LearnerCommand[];
  /**
   * How checks that need root get it: as root, through `sudo -n` (an interactive run has let sudo ask
   * for the password on the terminal first), or not at all. Probes of a rootless bundle need none.
   */
  privilege: Privilege;
  signal?: AbortSignal;
}

/** A command the learner typed in ocilab's shell, as the shell's hooks and the terminal recorder saw it. */
export interface LearnerCommand {
  line: string;
  exit: number;
  /** How long it ran. */
  seconds: number;
  /** ISO time it started. */
  at: string;
  /** What the terminal showed while it ran, escape sequences removed; bounded, with a note where cut. */
  output: string;
}
