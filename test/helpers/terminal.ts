// A real terminal for end-to-end tests: a tmux server of the learner's own (so the pane's pty belongs
// to them, as a login would), a login shell in it, keys sent as a person types them, the screen read back.
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import type { Learner } from './learners.js';

const SCREEN_TIMEOUT_MS = 60_000;
const POLL_MS = 150;
const HISTORY_LINES = 5000;

export interface TerminalOptions {
  width?: number;
  height?: number;
  /** The environment of the login shell in the pane (HOME, USER, PATH and the like are set already). */
  env?: Record<string, string>;
}

export class Terminal {
  private constructor(
    private readonly socket: string,
    private readonly user: string | undefined,
  ) {}

  /** A terminal with a bash login shell for `who` (root when undefined). */
  static async open(who: Learner | undefined, options: TerminalOptions = {}): Promise<Terminal> {
    const socket = `ocilab-test-${randomBytes(4).toString('hex')}`;
    const terminal = new Terminal(socket, who?.name);
    const env = {
      HOME: who?.home ?? '/root',
      USER: who?.name ?? 'root',
      LOGNAME: who?.name ?? 'root',
      SHELL: '/bin/bash',
      PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
      TERM: 'xterm-256color',
      LANG: 'C.UTF-8',
      NO_COLOR: '1',
      ...options.env,
    };
    const size = ['-x', String(options.width ?? 120), '-y', String(options.height ?? 50)];
    // `env -i`: the shell starts with the environment a login gives, not the test runner's.
    const shell = `env -i ${Object.entries(env)
      .map(([k, v]) => `${k}=${quote(v)}`)
      .join(' ')} bash --login`;
    await terminal.tmux(['new-session', '-d', '-s', 'main', '-c', env.HOME, ...size, shell]);
    await terminal.tmux(['set-option', '-g', 'history-limit', String(HISTORY_LINES)]);
    return terminal;
  }

  private async tmux(args: string[]) {
    const base = ['tmux', '-L', this.socket, ...args];
    const [file, ...rest] = this.user ? ['runuser', '-u', this.user, '--', ...base] : base;
    const result = await execa(file!, rest, { reject: false, stdin: 'ignore', cwd: '/' });
    if (result.exitCode !== 0 && args[0] !== 'kill-server') {
      throw new Error(`tmux ${args.join(' ')} failed (${result.exitCode}): ${result.stderr}`);
    }
    return result.stdout;
  }

  /** Types `text` literally (no key names), without Enter. */
  async type(text: string): Promise<void> {
    await this.tmux(['send-keys', '-t', 'main', '-l', text]);
  }

  /** Presses keys by tmux name: `Enter`, `Down`, `C-c`, `C-d`, `Escape`. */
  async press(...keys: string[]): Promise<void> {
    await this.tmux(['send-keys', '-t', 'main', ...keys]);
  }

  /** Types a line and presses Enter. */
  async line(text: string): Promise<void> {
    await this.type(text);
    await this.press('Enter');
  }

  /** Everything the pane shows and has scrolled away, wrapped lines joined. */
  async screen(): Promise<string> {
    return this.tmux(['capture-pane', '-p', '-J', '-S', `-${HISTORY_LINES}`, '-t', 'main']);
  }

  /** How often `text` appears on the screen now. */
  async count(text: string | RegExp): Promise<number> {
    return occurrences(await this.screen(), text);
  }

  /** Waits until the screen shows `text` at least `occurrence` times, and returns the screen. */
  async waitFor(text: string | RegExp, occurrence = 1, timeoutMs = SCREEN_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = await this.screen();
      if (occurrences(last, text) >= occurrence) return last;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    throw new Error(`the terminal never showed ${String(text)} (x${occurrence}); it shows:\n${last}`);
  }

  /** Waits for one more `text` than the screen shows now: `const next = await t.next('What next?')` before acting. */
  async next(text: string | RegExp): Promise<(timeoutMs?: number) => Promise<string>> {
    const seen = await this.count(text);
    return (timeoutMs) => this.waitFor(text, seen + 1, timeoutMs);
  }

  async close(): Promise<void> {
    await this.tmux(['kill-server']);
  }
}

/**
 * How often `text` is on the screen. A string is found across the line breaks and indentation ocilab
 * wraps its sentences with, as a reader sees it; a regular expression is matched as it is written.
 */
function occurrences(screen: string, text: string | RegExp): number {
  if (typeof text === 'string') return flowed(screen).split(flowed(text)).length - 1;
  return (screen.match(new RegExp(text.source, text.flags.includes('g') ? text.flags : `${text.flags}g`)) ?? []).length;
}

/** Runs of white space, line breaks included, as one space. */
const flowed = (text: string) => text.replace(/\s+/g, ' ');

function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
