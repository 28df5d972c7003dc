// Root for a learner who is not root: how lab commands call sudo, and letting sudo ask for the
// password once, on the real terminal, before checks that run `sudo -n` (its timestamp spares the rest).
import { needsSudo } from '../checks/index.js';
import type { CheckContext } from '../checks/types.js';
import type { Step } from '../lab/model.js';
import type { SudoMode } from '../sys/exec.js';
import { askSudoOnTerminal, sudoAsksNothing, type Privilege } from '../sys/privilege.js';
import type { Emit } from './events.js';

export const SUDO_WILL_ASK = 'Checking this step needs root: sudo asks for your password (once; it remembers it for a while).';
export const SUDO_DID_NOT_ACCEPT = 'sudo did not accept: the checks that need root cannot run.';
export const SUDO_NEEDS_TERMINAL = (labId: string) =>
  `sudo wants your password, and this run has no terminal to ask on. Run \`ocilab run ${labId}\` in a terminal (sudo asks once), or set up passwordless sudo for your user.`;
export const SUDO_HEADLESS_WARNING = (labId: string) =>
  `Some steps of this lab need root, and sudo will want your password, which a headless run cannot ask for: those steps will stop. Run \`ocilab run ${labId}\` in a terminal to type it, or set up passwordless sudo.`;
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
