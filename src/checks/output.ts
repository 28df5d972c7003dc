// The `output` check: judges the recorded output of the step's own command.
import type { OutputCheck } from '../lab/model.js';
import { judgeOutput } from './text.js';
import type { CheckContext, CheckOutcome } from './types.js';

export const NO_STEP_OUTPUT = "The step's command did not run in this session, so there is no output to check; run the step again.";

export async function outputCheck(check: OutputCheck, ctx: CheckContext): Promise<CheckOutcome> {
  if (ctx.stepOutput === undefined) return { status: 'error', message: NO_STEP_OUTPUT };
  // Only the text is recorded for a step; its exit status is the runner's business (a failed command stops the step).
  if (check.exit !== undefined) {
    return {
      status: 'error',
      message: "An output check cannot judge the exit status of the step's command; use a command check for that.",
    };
  }
  return judgeOutput(ctx.stepOutput, check);
}
