// Every way of attempting one step: ocilab runs it, the learner types it in ocilab's shell (and checks
// it there with `ocilab check`), does it elsewhere, or verify looks at the workspace. All of them go
// through one StepActions and one StepJudge, so ways, sudo, cleanups and check records are handled once.
import type { LearnerCommand } from '../checks/types.js';
import { CancelledError, EnvironmentError, STOPPED } from '../errors.js';
import { judgesOutput, type Lab, type Step } from '../lab/model.js';
import type { Privilege } from '../sys/privilege.js';
import { StepActions, type ActionOptions } from './actions.js';
import type { StepStatus } from './events.js';
import { StepJudge } from './judge.js';
import { record, saveProgress, type LabProgress } from './progress.js';
import { openShell, type ShellVerdict } from './shell.js';
import { keepCommands } from './transcript.js';

/** What the attempts of a lab run need to know (a part of `LabRunOptions`). */
export interface AttemptOptions extends ActionOptions {
  progress: LabProgress;
  save?: (progress: LabProgress) => Promise<void>;
}

export class StepAttempts {
  private readonly actions: StepActions;
  private readonly judge: StepJudge;

  constructor(
    private readonly lab: Lab,
    private readonly options: AttemptOptions,
    privilege: Privilege,
  ) {
    this.actions = new StepActions(lab, options, privilege);
    this.judge = new StepJudge(options, privilege, this.actions);
  }

  /** ocilab does the step's work, then the checks judge it. `beforeActions`: prove's look at the checks first. */
  async run(step: Step, beforeActions?: (step: Step) => Promise<void>): Promise<StepStatus> {
    this.bumpAttempts(step);
    await beforeActions?.(step);
    const acted = await this.act(step);
    const checked = await this.judge.attempt(step, { how: 'run' });
    return acted ? checked : 'failed';
  }

  /** Done elsewhere: what the learner typed in ocilab's shell earlier still counts for output checks. */
  async self(step: Step): Promise<StepStatus> {
    this.bumpAttempts(step);
    const typed = this.options.progress.steps[step.id]?.commands;
    return this.judge.attempt(step, { how: 'self', ...(typed ? { typed } : {}) });
  }

  /** The learner does the step in ocilab's shell; leaving the shell checks it. */
  async shell(step: Step, index: number): Promise<StepStatus> {
    const { emit, progress, signal } = this.options;
    this.bumpAttempts(step);
    emit({ type: 'shell-start', step, index, total: this.lab.steps.length, workdir: this.options.workdir });
    let typed: LearnerCommand[] = [];
    let verdict: ShellVerdict | undefined;
    try {
      ({ commands: typed, verdict } = await openShell({
        lab: this.lab,
        step,
        index,
        workdir: this.options.workdir,
        vars: this.options.vars,
        signal,
        onNotice: (message) => {
          emit({ type: 'notice', level: 'info', message });
        },
      }));
    } finally {
      const previous = progress.steps[step.id];
      record(progress, step.id, {
        status: previous?.status ?? 'started',
        how: 'shell',
        commands: keepCommands(previous?.commands ?? [], typed),
      });
    }
    emit({ type: 'shell-end', step, commands: typed.length });
    if (signal.aborted) {
      // Killed with the shell open: whatever the step's commands leave running must not outlive it.
      await this.actions.cleanUp(step);
      throw new CancelledError(STOPPED(this.lab.id));
    }
    const status = await this.judge.attempt(step, {
      how: 'shell',
      typed: progress.steps[step.id]?.commands ?? typed,
      ...(verdict ? { inShell: verdict.outcomes } : {}),
    });
    return status === 'passed' || step.checks.length === 0 ? 'passed' : status;
  }

  /** `ocilab check` inside the shell: the step judged now on what was typed so far in this session. */
  async checkTyped(step: Step, session: LearnerCommand[]): Promise<StepStatus> {
    const { progress } = this.options;
    const previous = progress.steps[step.id];
    // Earlier checks of this session saved some of its commands already.
    const isNew = (c: LearnerCommand) => !session.some((s) => s.at === c.at && s.line === c.line);
    const commands = keepCommands((previous?.commands ?? []).filter(isNew), session);
    record(progress, step.id, { status: previous?.status ?? 'started', how: 'shell', commands });
    const status = await this.judge.attempt(step, { how: 'shell', typed: commands });
    await (this.options.save ?? saveProgress)(progress);
    return status;
  }

  /**
   * `ocilab verify`: the step's checks on the workspace as it is. Output checks judge what the learner
   * typed in ocilab's shell, or else the step's commands run again (the parser made sure they only
   * read), chosen and run as `run` does: the same ways, sudo and cleanups. Edits are not made.
   */
  async verify(step: Step): Promise<StepStatus> {
    const record = this.options.progress.steps[step.id];
    const typed = record?.how === 'shell' ? record.commands : undefined;
    this.actions.reset();
    if (!typed && step.checks.some(judgesOutput)) {
      try {
        for (const action of step.actions) {
          if (action.kind === 'command') await this.actions.execute(action.command);
          else if (action.kind === 'ways') await this.actions.execute(await this.actions.chooseWay(step, action.ways));
        }
      } catch (error) {
        // No way works here: the output checks say there is nothing to judge.
        if (!(error instanceof EnvironmentError)) throw error;
        this.options.emit({ type: 'notice', level: 'warn', message: error.message });
      }
    }
    return this.judge.attempt(step, { how: record?.how ?? 'self', ...(typed ? { typed } : {}) });
  }

  private bumpAttempts(step: Step): void {
    const previous = this.options.progress.steps[step.id];
    record(this.options.progress, step.id, {
      status: previous?.status ?? 'started',
      attempts: (previous?.attempts ?? 0) + 1,
      startedAt: previous?.startedAt ?? new Date().toISOString(),
    });
  }

  /** Does the step's actions in order; false as soon as one fails. */
  private async act(step: Step): Promise<boolean> {
    this.actions.reset();
    for (const action of step.actions) {
      if (this.options.signal.aborted) throw new CancelledError();
      let ok: boolean;
      if (action.kind === 'command') ok = await this.actions.execute(action.command);
      else if (action.kind === 'edit') ok = await this.actions.applyEdit(action.edit);
      else {
        const way = await this.actions.chooseWay(step, action.ways);
        record(this.options.progress, step.id, { status: this.options.progress.steps[step.id]?.status ?? 'started', way: way.name });
        ok = await this.actions.execute(way);
      }
      if (!ok) return false;
    }
    return true;
  }
}
