// Runs a lab step by step: commands, edits, ways, checks, hints and progress. Emits events, never prints.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeCheck, runCheck } from '../checks/index.js';
import type { CheckContext, CheckResult } from '../checks/types.js';
import { CancelledError, EnvironmentError } from '../errors.js';
import type { Command, Edit, Lab, Step, Way } from '../lab/model.js';
import { runProcess, runScript } from '../sys/exec.js';
import { which } from '../sys/host.js';
import { makeLearnerDirectory } from '../sys/learner.js';
import { detectPrivilege, PASSWORD_REQUIRED, sudoAsksNothing, type Privilege } from '../sys/privilege.js';
import { planEdit } from './edit.js';
import type { Emit, Mode, StepStatus } from './events.js';
import { record, resumeIndex, saveProgress, type CheckRecord, type LabProgress } from './progress.js';
import type { Prompter, StepChoice } from './prompter.js';
import { commandSudo, holdCleanup, letSudoAsk, NO_ROOT_WARNING, quietSudo, SUDO_HEADLESS_WARNING, SUDO_NEEDS_TERMINAL } from './sudo.js';
import { assessWays } from './ways.js';

export interface LabRunOptions {
  workdir: string;
  vars: Record<string, string>;
  mode: Mode;
  /** Headless: go on after a failed step instead of stopping. */
  keepGoing: boolean;
  /** Prefer the way with this name wherever a step offers one. */
  use?: string;
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

const NEEDS_ROOT = (script: string) =>
  `This command needs root: ${script.split('\n')[0]}\n` +
  'You are not root, and sudo is not installed or does not work here: ask for sudo rights on this machine, or use a way of the step that needs no root where it offers one.';

const CLEANUP_TIMEOUT_MS = 30_000;

/** The state of one lab run, shared by the steps. */
class LabRun {
  private stepOutput: string | undefined;

  constructor(
    private readonly lab: Lab,
    private readonly options: LabRunOptions,
    private readonly privilege: Privilege,
  ) {}

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
      emit({ type: 'step-start', step, index, total: lab.steps.length, mode: options.mode });
      const began = Date.now();
      let status: StepStatus | undefined;
      try {
        status = options.mode === 'interactive' ? await this.interactiveStep(step) : await this.headlessStep(step);
      } finally {
        // Saved however the step ended, Ctrl-C included; a step only looked at keeps no record.
        const previous = progress.steps[step.id];
        const seconds = (previous?.seconds ?? 0) + Math.round((Date.now() - began) / 100) / 10;
        if (status) record(progress, step.id, { status, seconds });
        else if (previous) record(progress, step.id, { status: previous.status, seconds });
        await (options.save ?? saveProgress)(progress);
      }
      emit({ type: 'step-end', step, status });
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
    this.bumpAttempts(step);
    await this.options.beforeActions?.(step);
    const acted = await this.act(step);
    const checked = await this.check(step);
    return acted ? checked : 'failed';
  }

  private async interactiveStep(step: Step): Promise<StepStatus> {
    const prompter = this.options.prompter;
    if (!prompter) throw new Error('interactive mode needs a prompter');
    let hintsShown = this.options.progress.steps[step.id]?.hints ?? 0;
    const hasWork = step.actions.length > 0;
    const hasChecks = step.checks.length > 0;
    for (;;) {
      const choices: StepChoice[] = hasWork ? ['run', ...(hasChecks ? (['self'] as const) : [])] : hasChecks ? ['self'] : ['next'];
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
          throw new CancelledError(`Stopped. Your progress is saved; \`ocilab run ${this.lab.id}\` goes on from here.`);
        case 'hint': {
          const text = step.hints[hintsShown] as string;
          hintsShown++;
          record(this.options.progress, step.id, { status: this.options.progress.steps[step.id]?.status ?? 'started', hints: hintsShown });
          this.options.emit({ type: 'hint', text, number: hintsShown, of: step.hints.length });
          break;
        }
        case 'run':
        case 'self': {
          this.bumpAttempts(step);
          const acted = choice === 'run' ? await this.act(step) : true;
          const status = await this.check(step);
          if (acted && status === 'passed') return 'passed';
          if (!hasChecks && acted) return 'passed';
          // The attempt ended without passing; the learner may try again, read a hint or move on.
          record(this.options.progress, step.id, { status: acted ? status : 'failed' });
          break;
        }
      }
    }
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
    this.stepOutput = undefined;
    for (const action of step.actions) {
      if (this.options.signal.aborted) throw new CancelledError();
      let ok: boolean;
      if (action.kind === 'command') ok = await this.execute(action.command);
      else if (action.kind === 'edit') ok = await this.applyEdit(action.edit);
      else {
        const way = await this.chooseWay(step, action.ways);
        record(this.options.progress, step.id, { status: this.options.progress.steps[step.id]?.status ?? 'started', way: way.name });
        ok = await this.execute(way);
      }
      if (!ok) return false;
    }
    return true;
  }

  private async chooseWay(step: Step, ways: Way[]): Promise<Way> {
    const { emit, use, mode, prompter, workdir } = this.options;
    const options = await assessWays(ways, workdir, this.privilege === 'root');
    const wanted = use ? options.find((o) => o.way.name === use) : undefined;
    if (wanted) {
      if (!wanted.usable)
        emit({ type: 'notice', level: 'warn', message: `You chose '${wanted.way.name}' with --use, but ${wanted.reason}` });
      emit({ type: 'way-chosen', way: wanted.way, reason: 'chosen with --use' });
      return wanted.way;
    }
    for (const option of options) {
      if (!option.usable) emit({ type: 'notice', level: 'info', message: `Way '${option.way.name}' is not available: ${option.reason}` });
    }
    const usable = options.filter((o) => o.usable);
    const first = usable[0];
    if (!first) {
      throw new EnvironmentError(
        `None of the ways to do "${step.title}" works on this machine:\n` + options.map((o) => `  ${o.way.name}: ${o.reason}`).join('\n'),
      );
    }
    if (mode === 'interactive' && prompter && usable.length > 1) {
      const way = await prompter.chooseWay(step, options);
      emit({ type: 'way-chosen', way, reason: 'your choice' });
      return way;
    }
    emit({ type: 'way-chosen', way: first.way, reason: usable.length > 1 ? 'the first that works here' : 'the only one that works here' });
    return first.way;
  }

  private async execute(command: Command): Promise<boolean> {
    const { emit, mode, workdir, vars, signal } = this.options;
    if (command.interactive && mode === 'headless') {
      emit({ type: 'command-skipped', command, reason: 'it needs a terminal; its checks tell whether it would work' });
      return true;
    }
    if (command.root && this.privilege === 'none') throw new EnvironmentError(NEEDS_ROOT(command.script));
    const held =
      command.root && command.cleanup && mode === 'interactive' && this.privilege === 'sudo-password'
        ? await holdCleanup(command.cleanup, { cwd: workdir, env: vars, emit, signal })
        : undefined;
    emit({ type: 'command-start', command });
    try {
      // Interactive: sudo asks on the real terminal itself (ocilab never sees the password); headless: `sudo -n`.
      const result = await runScript(command.script, {
        cwd: workdir,
        env: vars,
        timeoutMs: command.timeout * 1000,
        tty: command.interactive,
        sudo: commandSudo(this.privilege, mode === 'interactive'),
        onOutput: (chunk, stream) => emit({ type: 'output', chunk, stream }),
        signal,
      });
      this.stepOutput = result.output;
      if (result.exitCode !== 0 && mode === 'headless' && this.privilege !== 'root' && PASSWORD_REQUIRED.test(result.output)) {
        emit({ type: 'notice', level: 'warn', message: SUDO_NEEDS_TERMINAL(this.lab.id) });
      }
      emit({
        type: 'command-end',
        command,
        exitCode: result.exitCode,
        timedOut: result.timedOut,
        ...(result.startError ? { startError: result.startError } : {}),
      });
      if (result.cancelled) throw new CancelledError(`Stopped. Your progress is saved; \`ocilab run ${this.lab.id}\` goes on from here.`);
      return result.exitCode === 0;
    } finally {
      if (held) await held.release();
      else if (command.cleanup) {
        // `sudo -n` in ocilab's session: the timestamp sudo keeps for the learner's terminal counts.
        await runScript(command.cleanup, { cwd: workdir, env: vars, timeoutMs: CLEANUP_TIMEOUT_MS, sudo: quietSudo(this.privilege) });
      }
    }
  }

  private async applyEdit(edit: Edit): Promise<boolean> {
    const { emit, mode, prompter, workdir } = this.options;
    const file = join(workdir, edit.file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      emit({ type: 'notice', level: 'warn', message: `${edit.file} is not in the workspace (${workdir}): do the earlier steps first.` });
      return false;
    }
    let plan;
    try {
      plan = planEdit(text, edit);
    } catch (error) {
      emit({
        type: 'notice',
        level: 'warn',
        message: `${edit.file} is not valid JSON (${(error as Error).message}); fix it or delete it and run the earlier step again.`,
      });
      return false;
    }
    if (mode === 'headless' || !prompter) {
      await writeFile(file, plan.after);
      emit({ type: 'edit', edit, diff: plan.diff, applied: true });
      return true;
    }
    emit({ type: 'edit', edit, diff: plan.diff, applied: false });
    const choice = await prompter.editAction(edit, plan.diff);
    if (choice === 'apply') {
      await writeFile(file, plan.after);
      emit({ type: 'notice', level: 'info', message: `Applied to ${edit.file}.` });
    } else if (choice === 'editor') {
      await openEditor(file, workdir);
    }
    return true;
  }

  private async check(step: Step): Promise<StepStatus> {
    if (step.checks.length === 0) return 'passed';
    const { emit } = this.options;
    emit({ type: 'checks-start', step });
    const context: CheckContext = {
      workdir: this.options.workdir,
      vars: this.options.vars,
      privilege: this.privilege,
      signal: this.options.signal,
      ...(this.stepOutput !== undefined ? { stepOutput: this.stepOutput } : {}),
    };
    if (this.options.mode === 'interactive') await letSudoAsk(step, context, emit);
    const results: CheckRecord[] = [];
    const status = await judgeChecks(step, context, (event) => {
      if (event.type === 'check-result') results.push(toCheckRecord(event.result, event.label));
      emit(event);
    });
    record(this.options.progress, step.id, { status: this.options.progress.steps[step.id]?.status ?? status, checks: results });
    return status;
  }
}

/** Runs a step's checks in order, emitting each result; the step's status follows from them. */
export async function judgeChecks(step: Step, context: CheckContext, emit: Emit): Promise<'passed' | 'failed' | 'error'> {
  let failed = false;
  let errored = false;
  for (const check of step.checks) {
    if (context.signal?.aborted) throw new CancelledError();
    const result = await runCheck(check, context);
    emit({ type: 'check-result', result, label: describeCheck(check, context.vars) });
    failed ||= result.status === 'failed';
    errored ||= result.status === 'error';
  }
  // A check cut short by Ctrl-C reports an error; the run as a whole was cancelled.
  if (context.signal?.aborted) throw new CancelledError();
  return failed ? 'failed' : errored ? 'error' : 'passed';
}

function toCheckRecord(result: CheckResult, label: string): CheckRecord {
  return {
    kind: result.check.kind,
    label,
    status: result.status,
    message: result.message,
    ...(result.status === 'failed' ? { expected: result.expected, actual: result.actual } : {}),
    ...(result.status !== 'passed' && result.hint ? { hint: result.hint } : {}),
  };
}

async function openEditor(file: string, cwd: string): Promise<void> {
  const editor = process.env.VISUAL || process.env.EDITOR || 'vi';
  // The editor setting may carry arguments ("code -w"), so the shell splits it; the file goes in as $1.
  await runProcess('sh', ['-c', `${editor} "$1"`, 'sh', file], { cwd, tty: true });
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
