// verify: runs only the checks of a lab against what is already in the workspace.
// For a student who typed the commands by hand, or an instructor checking a machine.
import type { CheckResult } from '../checks/types.js';
import type { Lab, Step, Way } from '../lab/model.js';
import type { CheckContext } from '../checks/types.js';
import { runScript } from '../sys/exec.js';
import { detectPrivilege, type Privilege } from '../sys/privilege.js';
import type { How, RunnerEvent } from './events.js';
import type { LabProgress } from './progress.js';
import { judgeChecks } from './run.js';
import { letSudoAsk, quietSudo } from './sudo.js';
import { assessWays, wantedWay } from './ways.js';

export interface VerifiedCheck {
  kind: string;
  status: CheckResult['status'];
  message: string;
  expected?: string;
  actual?: string;
  hint?: string;
  label: string;
}

export interface VerifiedStep {
  id: string;
  title: string;
  status: 'passed' | 'failed' | 'skipped' | 'error';
  checks: VerifiedCheck[];
  /** From the progress: how the learner last did the step, and what they typed in ocilab's shell. */
  how?: How;
  commands?: { line: string; exit: number; at: string }[];
}

export interface VerifyReport {
  lab: string;
  passed: boolean;
  steps: VerifiedStep[];
}

export interface VerifyOptions {
  workdir: string;
  vars: Record<string, string>;
  /** As `ocilab run --use`: each step that offers one of these ways takes the first it offers. */
  use?: readonly string[];
  signal: AbortSignal;
  /** On a terminal: sudo may ask for the password there before checks that need root. */
  interactive: boolean;
  /** Called as each check finishes, for live output. */
  onResult?: (step: Step, check: VerifiedCheck) => void;
  /** The learner's progress: output checks of a step typed in ocilab's shell judge what was typed. */
  progress?: LabProgress;
  /** Called with what the learner should know beyond the checks (sudo about to ask, say). */
  onNotice?: (level: 'info' | 'warn', message: string) => void;
}

export async function verifyLab(lab: Lab, options: VerifyOptions): Promise<VerifyReport> {
  const { privilege } = await detectPrivilege();
  const steps: VerifiedStep[] = [];
  for (const step of lab.steps) {
    if (step.checks.length === 0) {
      steps.push({ id: step.id, title: step.title, status: 'skipped', checks: [] });
      continue;
    }
    const checks: VerifiedCheck[] = [];
    const record = options.progress?.steps[step.id];
    const typed = record?.how === 'shell' ? record.commands : undefined;
    const stepOutput = needsOutput(step) && !typed ? await rerunReadonly(step, options, privilege) : undefined;
    const collect = (event: RunnerEvent) => {
      if (event.type === 'notice') options.onNotice?.(event.level, event.message);
      if (event.type !== 'check-result') return;
      const { result, label } = event;
      const check: VerifiedCheck = {
        kind: result.check.kind,
        status: result.status,
        message: result.message,
        label,
        ...(result.status === 'failed' ? { expected: result.expected, actual: result.actual } : {}),
        ...(result.status !== 'passed' && result.hint ? { hint: result.hint } : {}),
      };
      checks.push(check);
      options.onResult?.(step, check);
    };
    const context: CheckContext = {
      workdir: options.workdir,
      vars: options.vars,
      privilege,
      signal: options.signal,
      ...(typed ? { typed } : stepOutput !== undefined ? { stepOutput } : {}),
    };
    if (options.interactive) await letSudoAsk(step, context, collect);
    const status = await judgeChecks(step, context, collect);
    steps.push({
      id: step.id,
      title: step.title,
      status,
      checks,
      ...(record?.how ? { how: record.how } : {}),
      ...(record?.commands ? { commands: record.commands.map(({ line, exit, at }) => ({ line, exit, at })) } : {}),
    });
  }
  return { lab: lab.id, passed: steps.every((s) => s.status === 'passed' || s.status === 'skipped'), steps };
}

function needsOutput(step: Step): boolean {
  return step.checks.some((c) => c.kind === 'output' || c.kind === 'tags');
}

/** Output checks judge what the step's command prints; the parser made sure such commands only read. */
async function rerunReadonly(step: Step, options: VerifyOptions, privilege: Privilege): Promise<string | undefined> {
  let output = '';
  for (const action of step.actions) {
    let command;
    if (action.kind === 'command') command = action.command;
    else if (action.kind === 'ways') command = await pickWay(action.ways, options, privilege);
    else continue;
    if (!command) return undefined;
    const result = await runScript(command.script, {
      cwd: options.workdir,
      env: options.vars,
      timeoutMs: command.timeout * 1000,
      sudo: quietSudo(privilege),
      signal: options.signal,
    });
    output = result.output;
  }
  return output;
}

async function pickWay(ways: Way[], options: VerifyOptions, privilege: Privilege): Promise<Way | undefined> {
  const chosen = wantedWay(ways, options.use ?? []);
  if (chosen) return chosen;
  return (await assessWays(ways, options.workdir, privilege)).find((o) => o.usable)?.way;
}
