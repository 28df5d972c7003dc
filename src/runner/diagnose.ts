// Which of a step's diagnoses apply to a failed attempt: conditions on the failed checks, on what they
// found out, and on the learner's commands, written in the lab file (see docs/lab-format.md).
import { pickCommand as pick } from '../checks/output.js';
import { isSettled, type JudgedCheck, type LearnerCommand } from '../checks/types.js';
import type { DiagnosisCondition, Step } from '../lab/model.js';
import { expand } from '../lab/variables.js';

export interface Attempt {
  results: JudgedCheck[];
  /** The commands of the attempt, oldest first: typed in ocilab's shell, or run by ocilab. */
  commands: LearnerCommand[];
  vars: Record<string, string>;
  /** The learner is root. */
  root: boolean;
  /** Whether a path relative to the workspace exists. */
  exists: (path: string) => Promise<boolean>;
}

/**
 * The sentences to show: those about the learner's latest commands first, then in the order the lab
 * writes them. Diagnoses explain a failure: none apply when every check passed and the last command
 * succeeded.
 */
export async function diagnose(step: Step, attempt: Attempt): Promise<string[]> {
  const failed = attempt.results.filter((r) => !isSettled(r));
  const last = attempt.commands[attempt.commands.length - 1];
  if (failed.length === 0 && (last === undefined || last.exit === 0)) return [];
  const said: { text: string; recency: number }[] = [];
  for (const diagnosis of step.diagnoses) {
    const recency = await applies(diagnosis.when, failed, attempt);
    if (recency !== undefined) said.push({ text: expand(diagnosis.say, attempt.vars).trim(), recency });
  }
  return said.sort((a, b) => b.recency - a.recency).map(({ text }) => text);
}

/** Undefined when the diagnosis does not apply; else the index of the command it is about (-1: none). */
async function applies(when: DiagnosisCondition, failed: JudgedCheck[], attempt: Attempt): Promise<number | undefined> {
  if (!(await holds(when, failed, attempt))) return undefined;
  const command = about(when) ? pick(attempt.commands, when.typed) : undefined;
  return command ? attempt.commands.lastIndexOf(command) : -1;
}

async function holds(when: DiagnosisCondition, failed: JudgedCheck[], attempt: Attempt): Promise<boolean> {
  const named = when.check === undefined ? failed : failed.filter((r) => r.check.kind === when.check || r.check.title === when.check);
  if (when.check !== undefined && named.length === 0) return false;
  const { fact } = when;
  if (fact !== undefined && !named.some((r) => !isSettled(r) && r.facts?.includes(fact))) return false;
  if (when.user !== undefined && (when.user === 'root') !== attempt.root) return false;
  for (const [name, value] of Object.entries(when.vars ?? {})) if (attempt.vars[name] !== value) return false;
  if (when.exists !== undefined && !(await attempt.exists(expand(when.exists, attempt.vars)))) return false;
  if (!about(when)) return true;
  const command = pick(attempt.commands, when.typed);
  if (!command) return false;
  if (when.lacks !== undefined && new RegExp(when.lacks, 'm').test(command.line)) return false;
  if (when.exit === 'nonzero' ? command.exit === 0 : when.exit !== undefined && command.exit !== when.exit) return false;
  if (when.output !== undefined && !new RegExp(when.output, 'm').test(command.output)) return false;
  return true;
}

/** The condition is about one of the learner's commands. */
function about(when: DiagnosisCondition): boolean {
  return when.typed !== undefined || when.lacks !== undefined || when.exit !== undefined || when.output !== undefined;
}
