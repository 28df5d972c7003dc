// Typing in `ocilab shell N` as a learner does: entered at a step and left with it done, a line typed only
// at the prompt (the step's checks run before the next is read), sudo's password typed where it asks.
import { execa } from 'execa';
import { learnerOcilab, type Learner } from './learners.js';
import type { Terminal } from './terminal.js';

/** What ocilab's shell prints once every check of its step passes. */
export const STEP_PASSES = 'every check of this step passes';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface OcilabShellOptions {
  /** The lab's number, as `ocilab shell N` takes it. */
  lab: number;
  /** The lab's id: its workspace is `~/ocilab/ID`, and the shell's banner says `[ocilab ID STEP/STEPS`. */
  id: string;
  /** How many steps the lab has, as the banner counts them. */
  steps: number;
  /** The lab's variables, given to every `ocilab shell` as `--var name=value`. */
  vars: Record<string, string>;
  /** The learner whose password to type where sudo asks; without one, nothing answers sudo. */
  sudo?: Learner;
  /** How long one typed line may take to give the prompt back (default 120 s). */
  lineTimeoutMs?: number;
}

export class OcilabShell {
  /** The shell's prompt, in the lab's workspace. */
  readonly prompt: string;
  private left = 0;
  private entered = false;

  constructor(
    readonly terminal: Terminal,
    private readonly options: OcilabShellOptions,
  ) {
    this.prompt = `~/ocilab/${options.id} $`;
  }

  /** Starts `ocilab shell N` at the login shell's prompt, and waits for its banner at step `step`. */
  async enter(step: number): Promise<void> {
    if (!this.entered) await this.terminal.waitFor('$ ');
    this.entered = true;
    const vars = Object.entries(this.options.vars).map(([name, value]) => `--var ${name}=${value}`);
    await this.terminal.line([learnerOcilab, 'shell', String(this.options.lab), ...vars].join(' '));
    await this.terminal.waitFor(`[ocilab ${this.options.id} ${step}/${this.options.steps}`);
  }

  /**
   * Types a line at the prompt and waits for the next prompt. Each of ocilab's shells has a terminal of
   * its own, so sudo asks for the password again in each: where it asks, the learner's password is typed.
   */
  async type(line: string): Promise<void> {
    const t = this.terminal;
    const timeoutMs = this.options.lineTimeoutMs ?? 120_000;
    const prompts = await t.count(this.prompt);
    const who = this.options.sudo;
    if (!who) {
      await t.line(line);
      await t.waitFor(this.prompt, prompts + 1, timeoutMs);
      return;
    }
    const asks = `[sudo] password for ${who.name}:`;
    const asked = await t.count(asks);
    await t.line(line);
    const shown = await t.waitFor(new RegExp(`${escape(this.prompt)}|${escape(asks)}`), prompts + asked + 1, timeoutMs);
    if (shown.split(asks).length - 1 > asked) {
      await t.line(who.password);
      await t.waitFor(this.prompt, prompts + 1, timeoutMs);
    }
  }

  /** Types a line at the prompt, and waits until the shell says every check of the step passes. */
  async typeUntilPassed(line: string): Promise<void> {
    const passes = await this.terminal.next(STEP_PASSES);
    await this.type(line);
    await passes(this.options.lineTimeoutMs ?? 120_000);
  }

  /** Leaves the shell with `exit`, and waits until ocilab says the step is done. */
  async leave(): Promise<void> {
    await this.terminal.line('exit');
    await this.terminal.waitFor('Step done.', ++this.left);
  }

  /** Closes the terminal, and deletes (as root) a container of the lab's `ctr` the learner may have left. */
  async close(): Promise<void> {
    await this.terminal.close();
    const id = this.options.vars.ctr;
    if (id) await execa('runc', ['delete', '--force', id], { reject: false });
  }
}
