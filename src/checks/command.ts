// The `command` check: a shell script run in the workspace, judged by its exit status and output.
import type { CommandCheck } from '../lab/model.js';
import { runScript, type RunResult } from '../sys/exec.js';
import { judgeText } from './text.js';
import type { CheckContext, CheckResult } from './types.js';

const TIMEOUT_MS = 60_000;

/** Runs a script of the lab's checks as a command check runs it: in the workspace, with the lab variables, sudo never asking. */
export function runCheckScript(script: string, ctx: CheckContext, timeoutMs: number): Promise<RunResult> {
  return runScript(script, {
    cwd: ctx.workdir,
    env: ctx.vars,
    sudo: ctx.privilege === 'root' ? 'as-root' : 'no-prompt',
    timeoutMs,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

export async function commandCheck(check: CommandCheck, ctx: CheckContext): Promise<CheckResult> {
  const result = await runCheckScript(check.run, ctx, TIMEOUT_MS);
  if (result.startError) return { status: 'error', message: `Could not start bash to run the check: ${result.startError}` };
  if (result.cancelled) return { status: 'error', message: 'The check was cancelled.' };
  if (result.timedOut) {
    return {
      status: 'failed',
      message: `The check's command did not finish within ${TIMEOUT_MS / 1000} seconds and was stopped.`,
      expected: `finishes within ${TIMEOUT_MS / 1000} seconds`,
      actual: 'still running; stopped',
    };
  }
  // Judge what the learner would have seen in a terminal: stdout and stderr as they came.
  return judgeText(result.output, result.exitCode, check);
}
