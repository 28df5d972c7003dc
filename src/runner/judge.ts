// Judging an attempt at a step: its checks run on what the attempt left (the workspace, the output, what
// was typed), each result emitted, the step's diagnoses said, and the results recorded in the progress.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeCheck, needsSudo, runCheck } from '../checks/index.js';
import { isSettled, type CheckContext, type CheckResult, type JudgedCheck, type LearnerCommand } from '../checks/types.js';
import { CancelledError } from '../errors.js';
import type { Step } from '../lab/model.js';
import { sudoAsksNothing, type Privilege } from '../sys/privilege.js';
import type { StepActions } from './actions.js';
import { diagnose } from './diagnose.js';
import type { Emit, How, Mode, StepStatus } from './events.js';
import { record, type CheckRecord, type LabProgress } from './progress.js';
import { letSudoAsk } from './sudo.js';

/** What a step's checks judge, besides the workspace: how the attempt was made and what was typed. */
export interface Evidence {
  how: How;
  /** The learner's commands in ocilab's shell. */
  typed?: LearnerCommand[];
  /**
   * What the shell's last check found after the last command, by check. sudo keeps its timestamp per
   * terminal, and the shell has a terminal of its own: a check that needs sudo, which would make sudo
   * ask again out here, takes this result instead.
   */
  inShell?: CheckResult[];
}

/** What judging needs to know of a lab run (a part of `LabRunOptions`). */
export interface JudgeOptions {
  workdir: string;
  vars: Record<string, string>;
  mode: Mode;
  signal: AbortSignal;
  emit: Emit;
  progress: LabProgress;
}

export class StepJudge {
  constructor(
    private readonly options: JudgeOptions,
    private readonly privilege: Privilege,
    /** What ocilab ran in this attempt: output checks judge its output when nothing was typed. */
    private readonly actions: Pick<StepActions, 'output' | 'ran'>,
  ) {}

  /** The step's status after this attempt; a step without checks passes. */
  async attempt(step: Step, evidence: Evidence): Promise<StepStatus> {
    const { emit, progress, workdir, vars } = this.options;
    const previous = progress.steps[step.id];
    if (step.checks.length === 0) {
      record(progress, step.id, { status: previous?.status ?? 'started', how: evidence.how });
      return 'passed';
    }
    emit({ type: 'checks-start', step });
    const context: CheckContext = {
      workdir,
      vars,
      privilege: this.privilege,
      signal: this.options.signal,
      ...(evidence.typed !== undefined
        ? { typed: evidence.typed }
        : this.actions.output !== undefined
          ? { stepOutput: this.actions.output }
          : {}),
    };
    const settled = await this.settledInShell(step, context, evidence.inShell);
    const unsettled = { ...step, checks: step.checks.filter((_, index) => !settled.has(index)) };
    if (this.options.mode === 'interactive') await letSudoAsk(unsettled, context, emit);
    const results: JudgedCheck[] = [];
    const status = await judgeChecks(
      step,
      context,
      (event) => {
        if (event.type === 'check-result') results.push(event.result);
        emit(event);
      },
      settled,
    );
    const commands = evidence.typed ?? (evidence.how === 'run' ? this.actions.ran : []);
    const said = await diagnose(step, {
      results,
      commands,
      vars,
      root: this.privilege === 'root',
      exists: (path) =>
        stat(join(workdir, path)).then(
          () => true,
          () => false,
        ),
    });
    for (const text of said) emit({ type: 'diagnosis', text });
    record(progress, step.id, {
      status: previous?.status ?? status,
      how: evidence.how,
      checks: results.map((result) => toCheckRecord(result, describeCheck(result.check, vars))),
    });
    return status;
  }

  /** The checks whose in-shell result stands: they need sudo, and sudo would ask for the password here. */
  private async settledInShell(step: Step, context: CheckContext, inShell: CheckResult[] | undefined): Promise<Map<number, CheckResult>> {
    const settled = new Map<number, CheckResult>();
    if (!inShell || inShell.length !== step.checks.length || this.privilege !== 'sudo-password' || (await sudoAsksNothing()))
      return settled;
    for (const [index, check] of step.checks.entries()) {
      const result = inShell[index];
      if (result && (await needsSudo(check, context))) settled.set(index, result);
    }
    return settled;
  }
}

/** Runs a step's checks in order, emitting each result; the step's status follows from them. */
export async function judgeChecks(
  step: Step,
  context: CheckContext,
  emit: Emit,
  settled: ReadonlyMap<number, CheckResult> = new Map(),
): Promise<'passed' | 'failed' | 'error'> {
  let failed = false;
  let errored = false;
  for (const [index, check] of step.checks.entries()) {
    if (context.signal?.aborted) throw new CancelledError();
    const inShell = settled.get(index);
    const result = inShell ? { ...inShell, check } : await runCheck(check, context);
    emit({ type: 'check-result', result, label: describeCheck(check, context.vars) });
    failed ||= result.status === 'failed';
    errored ||= result.status === 'error';
  }
  // A check cut short by Ctrl-C reports an error; the run as a whole was cancelled.
  if (context.signal?.aborted) throw new CancelledError();
  return failed ? 'failed' : errored ? 'error' : 'passed';
}

export function toCheckRecord(result: JudgedCheck, label: string): CheckRecord {
  return {
    kind: result.check.kind,
    label,
    status: result.status,
    message: result.message,
    ...(result.status === 'failed' ? { expected: result.expected, actual: result.actual } : {}),
    ...(!isSettled(result) && result.hint ? { hint: result.hint } : {}),
  };
}
