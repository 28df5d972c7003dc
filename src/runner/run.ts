// Runs a lab step by step: the menu of an interactive run, hints, the time spent and the progress saved
// after every step; the attempts themselves are attempts.ts, and `shell`, `check` and `verify` take them too.
import type { LearnerCommand } from '../checks/types.js';
import { CancelledError, STOPPED } from '../errors.js';
import type { Lab, Step } from '../lab/model.js';
import { which } from '../sys/host.js';
import { makeLearnerDirectory } from '../sys/learner.js';
import { detectPrivilege, sudoAsksNothing, type Privilege } from '../sys/privilege.js';
import { StepAttempts } from './attempts.js';
import type { Emit, Mode, StepStatus } from './events.js';
import { record, resumeIndex, saveProgress, type LabProgress } from './progress.js';
import type { Prompter, StepChoice } from './prompter.js';
import { NO_ROOT_WARNING, SUDO_HEADLESS_WARNING } from './sudo.js';

export interface LabRunOptions {
  workdir: string;
  vars: Record<string, string>;
  mode: Mode;
  /** Headless: go on after a failed step instead of stopping. */
  keepGoing: boolean;
  /** Ways to use, by name (`--use`, repeatable): each step that offers one of them takes the first it offers. */
  use?: readonly string[];
  signal: AbortSignal;
  emit: Emit;
  /** Required in interactive mode. */
  prompter?: Prompter;
  progress: LabProgress;
  /** Keeps the progress after every step; `saveProgress` unless given (`prove` keeps none). */
  save?: (progress: LabProgress) => Promise<void>;
  /** Headless: called before a step's actions run (`prove` runs the step's checks there). */
  beforeActions?: (step: Step) => Promise<void>;
}

export interface LabRunOutcome {
  passed: boolean;
  counts: Record<StepStatus, number>;
}

/** The state of one lab run, shared by the steps. */
class LabRun {
  /** The one path every way of attempting a step takes. */
  readonly attempts: StepAttempts;

  constructor(
    private readonly lab: Lab,
    private readonly options: LabRunOptions,
    private readonly privilege: Privilege,
  ) {
    this.attempts = new StepAttempts(lab, options, privilege);
  }

  async run(): Promise<LabRunOutcome> {
    const { lab, options } = this;
    const { emit, progress } = options;
    await makeLearnerDirectory(options.workdir);
    const start = resumeIndex(
      progress,
      lab.steps.map((s) => s.id),
    );
    emit({ type: 'lab-start', lab, workdir: options.workdir, mode: options.mode, resumeAt: start });
    await this.warnAboutRequirements();

    let stopped = false;
    for (let index = start; index < lab.steps.length && !stopped; index++) {
      const step = lab.steps[index] as Step;
      const status = await this.visit(step, index, () =>
        options.mode === 'interactive' ? this.interactiveStep(step, index) : this.headlessStep(step),
      );
      if ((status === 'failed' || status === 'error') && options.mode === 'headless' && !options.keepGoing) stopped = true;
    }

    const counts = countStatuses(lab, progress);
    const passed =
      counts.failed === 0 &&
      counts.error === 0 &&
      !stopped &&
      resumeIndex(
        progress,
        lab.steps.map((s) => s.id),
      ) === lab.steps.length;
    emit({ type: 'lab-end', lab, passed, counts });
    return { passed, counts };
  }

  /** One visit to a step: its start and end shown, the time spent added, the progress saved however it ended. */
  async visit(step: Step, index: number, attempt: () => Promise<StepStatus>): Promise<StepStatus | undefined> {
    const { emit, progress, mode } = this.options;
    emit({ type: 'step-start', step, index, total: this.lab.steps.length, mode });
    const began = Date.now();
    let status: StepStatus | undefined;
    try {
      status = await attempt();
    } finally {
      // Saved however the step ended, Ctrl-C included; a step only looked at keeps no record.
      const previous = progress.steps[step.id];
      const seconds = (previous?.seconds ?? 0) + Math.round((Date.now() - began) / 100) / 10;
      if (status) record(progress, step.id, { status, seconds });
      else if (previous) record(progress, step.id, { status: previous.status, seconds });
      await (this.options.save ?? saveProgress)(progress);
    }
    emit({ type: 'step-end', step, status });
    return status;
  }

  private async warnAboutRequirements(): Promise<void> {
    const missing: string[] = [];
    for (const command of this.lab.requires.commands) if (!(await which(command))) missing.push(command);
    if (missing.length > 0) {
      this.options.emit({
        type: 'notice',
        level: 'warn',
        message: `Not found on this machine: ${missing.join(', ')}. Steps that use them will fail until they are installed; \`ocilab doctor ${this.lab.id}\` says how.`,
      });
    }
    if (!this.lab.requires.root) return;
    if (this.privilege === 'none') this.options.emit({ type: 'notice', level: 'warn', message: NO_ROOT_WARNING });
    if (this.privilege === 'sudo-password' && this.options.mode === 'headless' && !(await sudoAsksNothing())) {
      this.options.emit({ type: 'notice', level: 'warn', message: SUDO_HEADLESS_WARNING(this.lab.id) });
    }
  }

  private async headlessStep(step: Step): Promise<StepStatus> {
    if (step.actions.length === 0 && step.checks.length === 0) return 'read';
    return this.attempts.run(step, this.options.beforeActions);
  }

  private async interactiveStep(step: Step, index: number): Promise<StepStatus> {
    const prompter = this.options.prompter;
    if (!prompter) throw new Error('interactive mode needs a prompter');
    let hintsShown = this.options.progress.steps[step.id]?.hints ?? 0;
    const hasWork = step.actions.length > 0;
    const hasChecks = step.checks.length > 0;
    for (;;) {
      const choices: StepChoice[] = [
        ...(hasWork || hasChecks ? (['shell'] as const) : []),
        ...(hasWork ? (['run'] as const) : []),
        ...(hasChecks ? (['self'] as const) : []),
        ...(hasWork || hasChecks ? [] : (['next'] as const)),
      ];
      if (hintsShown < step.hints.length) choices.push('hint');
      if (hasWork || hasChecks) choices.push('skip');
      choices.push('quit');
      const choice = await prompter.stepAction(step, choices);
      switch (choice) {
        case 'next':
          return 'read';
        case 'skip':
          return 'skipped';
        case 'quit':
          throw new CancelledError(STOPPED(this.lab.id));
        case 'shell': {
          const status = await this.attempts.shell(step, index);
          if (status === 'passed') return 'passed';
          record(this.options.progress, step.id, { status });
          break;
        }
        case 'hint': {
          const text = step.hints[hintsShown] as string;
          hintsShown++;
          record(this.options.progress, step.id, { status: this.options.progress.steps[step.id]?.status ?? 'started', hints: hintsShown });
          this.options.emit({ type: 'hint', text, number: hintsShown, of: step.hints.length });
          break;
        }
        case 'run':
        case 'self': {
          const status = choice === 'run' ? await this.attempts.run(step) : await this.attempts.self(step);
          if (status === 'passed') return 'passed';
          // The attempt ended without passing; the learner may try again, read a hint or move on.
          record(this.options.progress, step.id, { status });
          break;
        }
      }
    }
  }
}

function countStatuses(lab: Lab, progress: LabProgress): Record<StepStatus, number> {
  const counts: Record<StepStatus, number> = { passed: 0, failed: 0, skipped: 0, error: 0, read: 0, started: 0 };
  for (const step of lab.steps) {
    const status = progress.steps[step.id]?.status;
    if (status) counts[status]++;
  }
  return counts;
}

export async function runLab(lab: Lab, options: LabRunOptions): Promise<LabRunOutcome> {
  return new LabRun(lab, options, (await detectPrivilege()).privilege).run();
}

/**
 * `ocilab shell`: the learner's shell for the lab's current step (the first not done), checked when it
 * ends; the step is done when its checks pass. Returns the step's status, or undefined when every step is done.
 */
export async function shellLab(lab: Lab, options: LabRunOptions): Promise<StepStatus | undefined> {
  const { progress } = options;
  await makeLearnerDirectory(options.workdir);
  let index = resumeIndex(
    progress,
    lab.steps.map((s) => s.id),
  );
  let step = lab.steps[index];
  // Reading steps before the step are passed over, as Continue would.
  while (step && step.actions.length === 0 && step.checks.length === 0) {
    record(progress, step.id, { status: 'read' });
    step = lab.steps[++index];
  }
  if (!step) {
    await (options.save ?? saveProgress)(progress);
    return undefined;
  }
  const run = new LabRun(lab, options, (await detectPrivilege()).privilege);
  return run.visit(step, index, () => run.attempts.shell(step, index));
}

/** Verifies each step with checks, through one LabRun: the path `run` takes, without edits. */
export async function verifySteps(lab: Lab, options: LabRunOptions): Promise<Map<string, StepStatus>> {
  const run = new LabRun(lab, options, (await detectPrivilege()).privilege);
  const statuses = new Map<string, StepStatus>();
  for (const step of lab.steps) if (step.checks.length > 0) statuses.set(step.id, await run.attempts.verify(step));
  return statuses;
}

/** `ocilab check` in ocilab's shell: checks `step` now, against the workspace and the session's commands. */
export async function checkTypedStep(lab: Lab, step: Step, options: LabRunOptions, session: LearnerCommand[]): Promise<StepStatus> {
  return new LabRun(lab, options, (await detectPrivilege()).privilege).attempts.checkTyped(step, session);
}
