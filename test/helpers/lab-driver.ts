// Drives `ocilab run` in a terminal to the end as a learner who lets ocilab run each step: Run it
// (or Continue on reading steps), a way in each chooser, Yes to a diff, the password when sudo asks,
// and `hostname`, `ps`, `exit` in the container's shell.
import type { Learner } from './learners.js';
import type { Terminal } from './terminal.js';

export interface DriveOptions {
  /** The way to pick in the chooser of the step with this title. */
  wayFor: (step: string) => string;
  /** Who answers sudo's password prompt, if it asks. */
  who?: Learner;
  timeoutMs: number;
  /** Stop once the container's shell shows its prompt, instead of typing in it. */
  untilShell?: boolean;
}

/** Answers every prompt until ocilab exits; returns the way chosen in each chooser, as "step: way". */
export async function driveLab(terminal: Terminal, options: DriveOptions): Promise<string[]> {
  const markers = {
    step: 'What next?',
    chooser: 'can be done in several ways',
    edit: /Change \S+ as shown\?/,
    password: '[sudo] password for',
    shell: /^\/ # ?$/m,
    end: /ocilab exited with \d+/,
  };
  const seen = Object.fromEntries(Object.keys(markers).map((k) => [k, 0])) as Record<keyof typeof markers, number>;
  const chosen: string[] = [];
  const deadline = Date.now() + options.timeoutMs;
  let steps = 0;
  while (Date.now() < deadline) {
    const screen = await terminal.screen();
    const count = (marker: string | RegExp) =>
      typeof marker === 'string' ? screen.split(marker).length - 1 : (screen.match(new RegExp(marker.source, 'gm')) ?? []).length;
    const fresh = (Object.keys(markers) as (keyof typeof markers)[]).find((k) => count(markers[k]) > seen[k]);
    if (!fresh) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      continue;
    }
    seen[fresh] = count(markers[fresh]);
    switch (fresh) {
      case 'end':
        return chosen;
      case 'step': {
        if (++steps > 30) throw new Error(`ocilab keeps asking "What next?": a step does not pass. The screen:\n${screen}`);
        // The shell comes first where a step has work; this learner lets ocilab run it.
        const menu = screen.slice(screen.lastIndexOf('What next?'));
        await pick(terminal, 'What next?', /Run it/.test(menu) ? 'Run it' : 'Continue');
        break;
      }
      case 'chooser': {
        const step = [...screen.matchAll(/"([^"]+)" can be done in several ways/g)].at(-1)?.[1] ?? '';
        const way = options.wayFor(step);
        await pick(terminal, 'can be done in several ways', way);
        chosen.push(`${step}: ${way}`);
        break;
      }
      case 'edit':
        await terminal.press('Enter');
        break;
      case 'password':
        if (!options.who) throw new Error(`sudo asked for a password nobody was to type:\n${screen}`);
        await terminal.line(options.who.password);
        break;
      case 'shell':
        if (options.untilShell) return chosen;
        await terminal.line('hostname');
        await terminal.waitFor(/^runc-demo\s*$/m);
        await terminal.line('ps');
        await terminal.waitFor(/PID\s+USER\s+(TIME\s+)?COMMAND/);
        seen.shell = Number.POSITIVE_INFINITY;
        await terminal.line('exit');
        break;
    }
  }
  throw new Error(`the lab did not end within ${options.timeoutMs / 1000} s:\n${await terminal.screen()}`);
}

/** Moves the cursor of the menu shown after the last `heading` to the choice starting with `label`, and picks it. */
export async function pick(terminal: Terminal, heading: string, label: string): Promise<void> {
  for (let moves = 0; moves < 10; moves++) {
    const screen = await terminal.screen();
    const menu = screen.slice(screen.lastIndexOf(heading));
    if (new RegExp(`^\\s*[❯▸>]\\s*${label}\\b`, 'm').test(menu)) {
      await terminal.press('Enter');
      return;
    }
    await terminal.press('Down');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the menu never pointed at ${label}:\n${await terminal.screen()}`);
}
