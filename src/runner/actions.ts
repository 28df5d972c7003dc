// Doing a step's work: choosing a way, running its commands (the terminal or not, sudo, timeouts,
// cleanups) and applying its edits; what the attempt ran is kept for its checks and diagnoses.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LearnerCommand } from '../checks/types.js';
import { CancelledError, EnvironmentError, STOPPED } from '../errors.js';
import type { Command, Edit, Lab, Step, Way } from '../lab/model.js';
import { runProcess, runScript } from '../sys/exec.js';
import { PASSWORD_REQUIRED, type Privilege } from '../sys/privilege.js';
import { planEdit } from './edit.js';
import type { Emit, Mode } from './events.js';
import type { Prompter } from './prompter.js';
import { commandSudo, holdCleanup, quietSudo, SUDO_NEEDS_TERMINAL } from './sudo.js';
import { bound } from './transcript.js';
import { assessWays, wantedWay } from './ways.js';

const NEEDS_ROOT = (script: string) =>
  `This command needs root: ${script.split('\n')[0]}\n` +
  'You are not root, and sudo is not installed or does not work here: ask for sudo rights on this machine, or use a way of the step that needs no root where it offers one.';

const CLEANUP_TIMEOUT_MS = 30_000;

/** What the actions of a lab run need to know (a part of `LabRunOptions`). */
export interface ActionOptions {
  workdir: string;
  vars: Record<string, string>;
  mode: Mode;
  use?: readonly string[];
  signal: AbortSignal;
  emit: Emit;
  prompter?: Prompter;
}

export class StepActions {
  /** The output of the last command ocilab ran in this attempt. */
  output: string | undefined;
  /** The commands ocilab ran in this attempt, for the step's diagnoses. */
  ran: LearnerCommand[] = [];

  constructor(
    private readonly lab: Lab,
    private readonly options: ActionOptions,
    private readonly privilege: Privilege,
  ) {}

  /** A new attempt: nothing run yet. */
  reset(): void {
    this.output = undefined;
    this.ran = [];
  }

  async chooseWay(step: Step, ways: Way[]): Promise<Way> {
    const { emit, use, mode, prompter, workdir } = this.options;
    const options = await assessWays(ways, workdir, this.privilege);
    const named = wantedWay(
      options.map((o) => o.way),
      use ?? [],
    );
    const wanted = options.find((o) => o.way === named);
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

  async execute(command: Command): Promise<boolean> {
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
    const began = Date.now();
    try {
      // Interactive: sudo asks on the real terminal itself (ocilab never sees the password); headless: `sudo -n`.
      const result = await runScript(command.script, {
        cwd: workdir,
        env: vars,
        timeoutMs: command.timeout * 1000,
        tty: command.interactive,
        sudo: commandSudo(this.privilege, mode === 'interactive'),
        onOutput: (chunk, stream) => {
          emit({ type: 'output', chunk, stream });
        },
        signal,
      });
      this.output = result.output;
      this.ran.push({
        line: command.script,
        exit: result.exitCode ?? -1,
        seconds: Math.round((Date.now() - began) / 100) / 10,
        at: new Date(began).toISOString(),
        output: bound(result.output),
      });
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
      if (result.cancelled) throw new CancelledError(STOPPED(this.lab.id));
      return result.exitCode === 0;
    } finally {
      if (held) await held.release();
      else if (command.cleanup) await this.runCleanup(command.cleanup);
    }
  }

  private async runCleanup(script: string): Promise<void> {
    const { workdir, vars } = this.options;
    // `sudo -n` in ocilab's session: the timestamp sudo keeps for the learner's terminal counts.
    await runScript(script, { cwd: workdir, env: vars, timeoutMs: CLEANUP_TIMEOUT_MS, sudo: quietSudo(this.privilege) });
  }

  /** Runs the cleanup of every command of the step (e.g. deleting a container the learner started). */
  async cleanUp(step: Step): Promise<void> {
    for (const action of step.actions) {
      const commands = action.kind === 'command' ? [action.command] : action.kind === 'ways' ? action.ways : [];
      for (const command of commands) if (command.cleanup) await this.runCleanup(command.cleanup);
    }
  }

  async applyEdit(edit: Edit): Promise<boolean> {
    const { emit, mode, prompter, workdir, vars } = this.options;
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
      plan = planEdit(text, edit, vars);
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
}

async function openEditor(file: string, cwd: string): Promise<void> {
  const editor = process.env.VISUAL || process.env.EDITOR || 'vi';
  // The editor setting may carry arguments ("code -w"), so the shell splits it; the file goes in as $1.
  await runProcess('sh', ['-c', `${editor} "$1"`, 'sh', file], { cwd, tty: true });
}
