// How this process can run things as root: it is root, sudo lets it without a password, sudo will ask
// for one, or there is no sudo. And the two ways of using sudo's timestamp, which is kept per terminal
// session: asking on the real terminal once, and asking nothing.
import { tmpdir } from 'node:os';
import { runProcess } from './exec.js';
import { isRoot, which } from './host.js';

/**
 * - `root`: this process is root; `sudo` is not needed.
 * - `sudo-nopasswd`: `sudo -n` works without a password.
 * - `sudo-password`: sudo asks for a password. It may still refuse afterwards: a user without sudo
 *   rights gets the same answer from `sudo -n`, so this means "sudo will ask", not "sudo will let you".
 * - `none`: no sudo, or one that does not work at all (what it said is in `said`).
 */
export type Privilege = 'root' | 'sudo-nopasswd' | 'sudo-password' | 'none';

export interface PrivilegeFacts {
  privilege: Privilege;
  /** What sudo said when it did not simply succeed. */
  said?: string;
}

const SUDO_TIMEOUT_MS = 10_000;
/** What `sudo -n` prints when it would have to ask for a password (sudo 1.8 and 1.9, sudo-rs too). */
export const PASSWORD_REQUIRED = /sudo: (?:a password is required|a terminal is required)|interactive authentication is required/i;

export async function detectPrivilege(): Promise<PrivilegeFacts> {
  if (isRoot()) return { privilege: 'root' };
  const sudo = await which('sudo');
  if (!sudo) return { privilege: 'none' };
  // `-k` with a command ignores a cached timestamp without removing it: the answer is what sudo's
  // policy says, not whether the learner typed the password in this terminal a minute ago.
  const result = await runProcess(sudo, ['-n', '-k', 'true'], { cwd: tmpdir(), timeoutMs: SUDO_TIMEOUT_MS, inSession: true });
  if (result.exitCode === 0) return { privilege: 'sudo-nopasswd' };
  const said = (result.stderr.trim().split('\n').pop() ?? '').trim() || (result.startError ?? 'no answer');
  return { privilege: PASSWORD_REQUIRED.test(result.stderr) ? 'sudo-password' : 'none', said };
}

/** sudo runs without asking right now: no password is needed, or this terminal's timestamp is fresh. */
export async function sudoAsksNothing(): Promise<boolean> {
  const result = await runProcess('sudo', ['-n', 'true'], { cwd: tmpdir(), timeoutMs: SUDO_TIMEOUT_MS, inSession: true });
  return result.exitCode === 0;
}

/**
 * `sudo -v` in the foreground on the real terminal: sudo asks for the password itself (ocilab never
 * sees it) and, once it is right, keeps a timestamp for this terminal that later `sudo -n` calls use.
 * True when sudo accepted.
 */
export async function askSudoOnTerminal(signal?: AbortSignal): Promise<boolean> {
  const result = await runProcess('sudo', ['-v'], { cwd: tmpdir(), tty: true, ...(signal ? { signal } : {}) });
  return result.exitCode === 0;
}
