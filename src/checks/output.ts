// The `output` check: judges the output of the step's own command, as ocilab ran it or the learner typed it.
import type { OutputCheck, TagsCheck } from '../lab/model.js';
import { judgeOutput } from './text.js';
import type { CheckContext, CheckResult, LearnerCommand } from './types.js';

export const NO_STEP_OUTPUT =
  "ocilab has not seen this step's command run, so there is no output to check: type it in ocilab's shell so it can see the output, or let ocilab run it.";

export function outputCheck(check: OutputCheck, ctx: CheckContext): CheckResult {
  // Only the text is judged; a command's exit status is for a command check.
  if (check.exit !== undefined) {
    return {
      status: 'error',
      message: "An output check cannot judge the exit status of the step's command; use a command check for that.",
    };
  }
  const output = outputOf(check, ctx);
  if (typeof output !== 'string') return output;
  return judgeOutput(output, check);
}

/**
 * The output a check of the step's output judges: the learner's own command when they typed the step
 * in ocilab's shell (the last matching `typed`, else the last that succeeded), else what ocilab ran.
 */
export function outputOf(check: OutputCheck | TagsCheck, ctx: CheckContext): string | Extract<CheckResult, { status: 'error' }> {
  const typed = ctx.typed ?? [];
  if (typed.length > 0) {
    const command = check.typed === undefined ? lastSucceeded(typed) : pickCommand(typed, check.typed);
    if (command) return command.output;
    return {
      status: 'error',
      message:
        check.typed === undefined
          ? "None of the commands you typed in ocilab's shell succeeded, so there is no output to check."
          : `None of the commands you typed in ocilab's shell is this step's command (a line matching /${check.typed}/): type it there so ocilab can see its output.`,
    };
  }
  if (ctx.stepOutput !== undefined) return ctx.stepOutput;
  return { status: 'error', message: NO_STEP_OUTPUT };
}

/** The last command whose line matches `typed`, or the last command. */
export function pickCommand(commands: readonly LearnerCommand[], typed: string | undefined): LearnerCommand | undefined {
  if (typed === undefined) return commands[commands.length - 1];
  const pattern = new RegExp(typed, 'm');
  return commands.filter((command) => pattern.test(command.line)).at(-1);
}

function lastSucceeded(commands: readonly LearnerCommand[]): LearnerCommand | undefined {
  return commands.filter((command) => command.exit === 0).at(-1);
}
