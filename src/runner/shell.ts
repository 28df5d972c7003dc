// ocilab's shell: the learner's real interactive bash or zsh in the lab's workspace for one step, under util-linux
// `script` so that everything the terminal shows is recorded, with hooks that record each command.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { CheckResult, LearnerCommand } from '../checks/types.js';
import { EnvironmentError } from '../errors.js';
import type { Lab, Step } from '../lab/model.js';
import { runProcess } from '../sys/exec.js';
import { labPath, ocilabCommandDir, packageFile, which } from '../sys/host.js';
import { parseTranscript } from './transcript.js';

export const SCRIPT_MISSING =
  "ocilab's shell records the terminal with util-linux `script`, which is not installed here: " +
  '`sudo apt install bsdutils` (Debian, Ubuntu), `sudo dnf install util-linux-script` (Fedora, RHEL) or `sudo apk add util-linux-misc` (Alpine).';
export const BASH_MISSING = "ocilab's shell is bash, which is not installed here: install it with your package manager.";

/** The files of a session, in its private directory (mode 0700, under the temporary directory). */
const FILES = {
  rc: 'bashrc',
  verdict: 'verdict.json',
  common: 'common.sh',
  records: 'commands.jsonl',
  typescript: 'typescript',
  session: 'session.json',
} as const;

/** What `ocilab check` inside the shell needs to know of the session (session.json). */
export interface ShellSession {
  /** The lab file, as ocilab read it. */
  labFile: string;
  labId: string;
  stepId: string;
  workdir: string;
  vars: Record<string, string>;
}

export interface ShellOptions {
  lab: Lab;
  step: Step;
  /** The step's place in the lab, 0-based. */
  index: number;
  workdir: string;
  vars: Record<string, string>;
  signal?: AbortSignal;
  /** Told when the shell is not the learner's own (a zsh learner in a lab whose variables clash with zsh). */
  onNotice?: (message: string) => void;
}

/** Parameters zsh gives a meaning of its own (`path` is tied to PATH): a lab variable of that name breaks there. */
const ZSH_SPECIAL = new Set(['path', 'cdpath', 'fpath', 'manpath', 'mailpath', 'module_path', 'psvar', 'status', 'pipestatus', 'argv']);

export const ZSH_CLASH = (names: string[]) =>
  `This lab's variable${names.length > 1 ? 's' : ''} ${names.map((n) => `$${n}`).join(', ')} mean${names.length > 1 ? '' : 's'} something else in zsh (\`$path\` is zsh's PATH), so ocilab's shell is bash for this lab.`;

/**
 * The learner's own shell when ocilab has hooks for it (bash, zsh), else bash: its start-up and
 * command. `sh` gets bash too: dash has no hook that runs before a prompt.
 */
async function learnerShell(
  dir: string,
  vars: Record<string, string>,
  onNotice: (message: string) => void,
): Promise<{ path: string; command: string; env: Record<string, string> }> {
  const wanted = basename(process.env.SHELL ?? '');
  const clash = Object.keys(vars).filter((name) => ZSH_SPECIAL.has(name));
  if (wanted === 'zsh' && clash.length > 0) onNotice(ZSH_CLASH(clash));
  const zsh = wanted === 'zsh' && clash.length === 0 ? await which('zsh') : undefined;
  if (zsh) {
    // zsh reads its start-up files from ZDOTDIR; the learner's own are read from where they are.
    await copyFile(packageFile('share', 'ocilab-shell.zsh'), join(dir, '.zshrc'));
    const own = process.env.ZDOTDIR || process.env.HOME || '';
    await writeFile(join(dir, '.zshenv'), '[[ -r ${OCILAB_ZDOTDIR}/.zshenv ]] && source "${OCILAB_ZDOTDIR}/.zshenv"\n');
    return { path: zsh, command: `exec ${quote(zsh)} -i`, env: { ZDOTDIR: dir, OCILAB_ZDOTDIR: own } };
  }
  const bash = await which('bash');
  if (!bash) throw new EnvironmentError(BASH_MISSING);
  await copyFile(packageFile('share', 'ocilab-shell.bash'), join(dir, FILES.rc));
  return { path: bash, command: `exec ${quote(bash)} --rcfile ${quote(join(dir, FILES.rc))} -i`, env: {} };
}

/** What the last `ocilab check` in the shell found, in the order of the step's checks, and after how many commands. */
export interface ShellVerdict {
  commands: number;
  outcomes: CheckResult[];
}

export interface ShellEnded {
  commands: LearnerCommand[];
  /** The last check in the shell, when it judged every command typed there. */
  verdict?: ShellVerdict;
}

/** Opens the shell on the real terminal and returns, once it has ended, the commands typed in it. */
export async function openShell(options: ShellOptions): Promise<ShellEnded> {
  const script = await which('script');
  if (!script) throw new EnvironmentError(SCRIPT_MISSING);
  const { lab, step, workdir, vars } = options;
  const dir = await mkdtemp(join(tmpdir(), 'ocilab-shell-'));
  try {
    await copyFile(packageFile('share', 'ocilab-shell-common.sh'), join(dir, FILES.common));
    const shell = await learnerShell(dir, vars, options.onNotice ?? (() => undefined));
    const session: ShellSession = { labFile: lab.file, labId: lab.id, stepId: step.id, workdir, vars };
    await writeFile(join(dir, FILES.session), `${JSON.stringify(session, null, 2)}\n`);
    const env = {
      ...vars,
      ...shell.env,
      PATH: labPath(),
      SHELL: shell.path,
      OCILAB_SESSION: dir,
      OCILAB_COMMAND: join(ocilabCommandDir() ?? '', 'ocilab'),
      OCILAB_LAB: lab.id,
      OCILAB_STEP_NUMBER: String(options.index + 1),
      OCILAB_STEPS: String(lab.steps.length),
    };
    // `script` runs its command with $SHELL -c; the directory name comes from mkdtemp, quoted anyway.
    await runProcess(script, ['--quiet', '--flush', '--return', '--command', shell.command, join(dir, FILES.typescript)], {
      cwd: workdir,
      env,
      tty: true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const commands = await readShellCommands(dir);
    const verdict = await readVerdict(dir);
    return { commands, ...(verdict && verdict.commands === commands.length ? { verdict } : {}) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The commands recorded so far in a session's directory (also while the shell is still open). */
export async function readShellCommands(dir: string): Promise<LearnerCommand[]> {
  const read = (name: string) => readFile(join(dir, name), 'utf8').catch(() => '');
  return parseTranscript(await read(FILES.records), await read(FILES.typescript));
}

/** Keeps what a check in the shell found, for ocilab to trust once the shell has ended. */
export async function writeVerdict(dir: string, verdict: ShellVerdict): Promise<void> {
  await writeFile(join(dir, FILES.verdict), JSON.stringify(verdict));
}

async function readVerdict(dir: string): Promise<ShellVerdict | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, FILES.verdict), 'utf8')) as ShellVerdict;
  } catch {
    return undefined;
  }
}

/** The session a shell's `ocilab check` belongs to, from $OCILAB_SESSION; undefined outside ocilab's shell. */
export async function currentSession(env: NodeJS.ProcessEnv = process.env): Promise<{ dir: string; session: ShellSession } | undefined> {
  const dir = env.OCILAB_SESSION;
  if (!dir) return undefined;
  try {
    return { dir, session: JSON.parse(await readFile(join(dir, FILES.session), 'utf8')) as ShellSession };
  } catch {
    return undefined;
  }
}

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
