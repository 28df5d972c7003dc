// Runs the playbooks of ansible/ with Debian's ansible-playbook, as an instructor would from the
// controller, with Ansible's own files kept in the test's directory; and reads the PLAY RECAP it prints.
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from './cli.js';

export const ANSIBLE_DIR = join(repoRoot, 'ansible');

const PLAYBOOK_TIMEOUT_MS = 400_000;
const LINT_TIMEOUT_MS = 180_000;

/** ansible-playbook, sshd, ssh and ssh-keygen are installed. */
export async function ansibleUsable(): Promise<boolean> {
  for (const file of ['/usr/sbin/sshd', '/usr/bin/ssh-keygen', '/usr/bin/ssh']) {
    try {
      await access(file, constants.X_OK);
    } catch {
      return false;
    }
  }
  return (await execa('ansible-playbook', ['--version'], { reject: false, stdin: 'ignore' })).exitCode === 0;
}

/** ansible-lint is installed (Debian's package runs offline). */
export async function ansibleLintUsable(): Promise<boolean> {
  return (await execa('ansible-lint', ['--version'], { reject: false, stdin: 'ignore' })).exitCode === 0;
}

/** Runs a command of Ansible's in ansible/ (ansible-lint, ansible-playbook --syntax-check), Ansible's files under `dir`. */
export async function inAnsibleDir(file: string, args: readonly string[], dir: string): Promise<PlaybookResult> {
  const result = await execa(file, args, {
    cwd: ANSIBLE_DIR,
    env: ansibleEnv(dir),
    reject: false,
    all: true,
    stdin: 'ignore',
    timeout: LINT_TIMEOUT_MS,
  });
  return { exitCode: result.exitCode, all: result.all };
}

function ansibleEnv(dir: string): Record<string, string> {
  return {
    ANSIBLE_CONFIG: join(ANSIBLE_DIR, 'ansible.cfg'),
    ANSIBLE_HOME: join(dir, 'ansible-home'),
    ANSIBLE_LOCAL_TEMP: join(dir, 'ansible-home', 'tmp'),
    ANSIBLE_SSH_CONTROL_PATH_DIR: join(dir, 'ansible-home', 'cp'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
  };
}

export interface PlaybookResult {
  /** 0 all went well, 2 a host failed, 4 a host was unreachable (ansible-playbook's own codes). */
  exitCode: number | undefined;
  /** stdout and stderr together: the task lines, the failures and the recap. */
  all: string;
}

/**
 * Runs `ansible-playbook -i INVENTORY ansible/PLAYBOOK.yml ARGS` in `dir` with the repository's
 * ansible.cfg, no colour, and Ansible's temporary files and ssh control sockets under `dir`.
 */
export async function runPlaybook(playbook: string, inventory: string, dir: string, args: readonly string[] = []): Promise<PlaybookResult> {
  const result = await execa('ansible-playbook', ['-i', inventory, join(ANSIBLE_DIR, `${playbook}.yml`), ...args], {
    cwd: dir,
    env: ansibleEnv(dir),
    reject: false,
    all: true,
    stdin: 'ignore',
    timeout: PLAYBOOK_TIMEOUT_MS,
  });
  return { exitCode: result.exitCode, all: result.all };
}

export interface HostRecap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
}

/** The PLAY RECAP lines: `ws1 : ok=18 changed=7 unreachable=0 failed=0 ...`, by host. */
export function recap(output: string): Record<string, HostRecap> {
  const at = output.lastIndexOf('PLAY RECAP');
  if (at < 0) throw new Error(`ansible-playbook printed no PLAY RECAP:\n${output}`);
  const hosts: Record<string, HostRecap> = {};
  for (const match of output.slice(at).matchAll(/^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
    const [, host, ok, changed, unreachable, failed] = match;
    if (host !== undefined)
      hosts[host] = { ok: Number(ok), changed: Number(changed), unreachable: Number(unreachable), failed: Number(failed) };
  }
  return hosts;
}
