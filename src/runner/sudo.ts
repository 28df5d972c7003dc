// Root for a learner who is not root: how lab commands call sudo, and letting sudo ask for the
// password once, on the real terminal, before checks that run `sudo -n` (its timestamp spares the rest).
import { needsSudo } from '../checks/index.js';
import type { CheckContext } from '../checks/types.js';
import type { Step } from '../lab/model.js';
import { asRootScript, runProcess, type RunResult, type SudoMode } from '../sys/exec.js';
import { labPath } from '../sys/host.js';
import { askSudoOnTerminal, sudoAsksNothing, type Privilege } from '../sys/privilege.js';
import type { Emit } from './events.js';

export const SUDO_WILL_ASK = 'Checking this step needs root: sudo asks for your password (once; it remembers it for a while).';
export const SUDO_DID_NOT_ACCEPT = 'sudo did not accept: the checks that need root cannot run.';
export const SUDO_NEEDS_TERMINAL = (labId: string) =>
  `sudo wants your password, and this run has no terminal to ask on. Run \`ocilab run ${labId}\` in a terminal (sudo asks once), or set up passwordless sudo for your user.`;
export const SUDO_HEADLESS_WARNING = (labId: string) =>
  `Some steps of this lab need root, and sudo will want your password, which a headless run cannot ask for: those steps will stop. Run \`ocilab run ${labId}\` in a terminal to type it, or set up passwordless sudo.`;
export const SUDO_WILL_ASK_FOR_COMMAND =
  'This step runs a command as root: sudo asks for your password (once; it remembers it for a while, and the command and its clean-up use that).';
export const NO_ROOT_WARNING =
  'Some steps of this lab need root, and you are neither root nor have sudo: those steps will stop with an explanation.';

/** How `sudo` in a lab command runs: directly as root, on the terminal in an interactive run, else `sudo -n`. */
export function commandSudo(privilege: Privilege, interactive: boolean): SudoMode {
  if (privilege === 'root') return 'as-root';
  return interactive ? 'terminal' : 'no-prompt';
}

/** How `sudo` in checks, way probes and cleanups runs: never with a prompt. */
export function quietSudo(privilege: Privilege): SudoMode {
  return privilege === 'root' ? 'as-root' : 'no-prompt';
}

/**
 * Before a step's checks in an interactive run: when one of them calls sudo and sudo would ask, runs
 * `sudo -v` on the terminal. The checks find out for themselves whether sudo then works.
 */
export async function letSudoAsk(step: Step, context: CheckContext, emit: Emit): Promise<void> {
  if (context.privilege !== 'sudo-password') return;
  let needed = false;
  for (const check of step.checks) needed ||= await needsSudo(check, context);
  if (!needed || (await sudoAsksNothing())) return;
  emit({ type: 'notice', level: 'info', message: SUDO_WILL_ASK });
  if (!(await askSudoOnTerminal(context.signal))) emit({ type: 'notice', level: 'warn', message: SUDO_DID_NOT_ACCEPT });
}

/** A clean-up held ready as root; `release` runs it (once) and waits for it. */
export interface HeldCleanup {
  release(): Promise<RunResult>;
}

/**
 * For a root command with a clean-up, in an interactive run where sudo asks for a password: lets sudo
 * ask now, then starts the clean-up as root, waiting on a pipe. sudo's timestamp belongs to the
 * terminal, so once the terminal closes no `sudo -n` works any more; this clean-up runs all the same
 * when ocilab lets go of it, or when ocilab is gone (the pipe closes). Undefined when sudo did not
 * accept: the command's own sudo will then say why.
 */
export async function holdCleanup(
  script: string,
  options: { cwd: string; env: Record<string, string>; emit: Emit; signal?: AbortSignal },
): Promise<HeldCleanup | undefined> {
  if (!(await sudoAsksNothing())) {
    options.emit({ type: 'notice', level: 'info', message: SUDO_WILL_ASK_FOR_COMMAND });
    if (!(await askSudoOnTerminal(options.signal))) return undefined;
  }
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  // sudo resets the environment: the lab's variables go in through env(1) as arguments, never as script
  // text. The clean-up ignores the hangup and Ctrl-C that reach ocilab's whole process group.
  const variables = Object.entries({ ...options.env, PATH: labPath() }).map(([name, value]) => `${name}=${value}`);
  const guard = `trap '' HUP INT\ncat >/dev/null\n${asRootScript(script)}`;
  // --norc: bash reads ~/.bashrc when its stdin is a socket, as Node's pipes are, and root's may do anything.
  const running = runProcess('sudo', ['-n', 'env', '--', ...variables, 'bash', '--norc', '--noprofile', '-c', guard], {
    cwd: options.cwd,
    inSession: true,
    stdinOpenUntil: released,
    // It must outlive ocilab: that is when it is needed most.
    outlive: true,
  });
  return {
    release() {
      release();
      return running;
    },
  };
}
