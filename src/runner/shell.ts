// ocilab's shell: a real interactive bash in the lab's workspace for one step, run under util-linux
// `script` so that everything the terminal shows is recorded, with hooks that record each command.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LearnerCommand } from '../checks/types.js';
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
const FILES = { rc: 'bashrc', records: 'commands.jsonl', typescript: 'typescript', session: 'session.json' } as const;

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
}

/** Opens the shell on the real terminal and returns, once it has ended, the commands typed in it. */
export async function openShell(options: ShellOptions): Promise<LearnerCommand[]> {
  const script = await which('script');
  if (!script) throw new EnvironmentError(SCRIPT_MISSING);
  const bash = await which('bash');
  if (!bash) throw new EnvironmentError(BASH_MISSING);
  const { lab, step, workdir, vars } = options;
  const dir = await mkdtemp(join(tmpdir(), 'ocilab-shell-'));
  try {
    await copyFile(packageFile('share', 'ocilab-shell.bash'), join(dir, FILES.rc));
    const session: ShellSession = { labFile: lab.file, labId: lab.id, stepId: step.id, workdir, vars };
    await writeFile(join(dir, FILES.session), `${JSON.stringify(session, null, 2)}\n`);
    const env = {
      ...vars,
      PATH: labPath(),
      SHELL: bash,
      OCILAB_SESSION: dir,
      OCILAB_COMMAND: join(ocilabCommandDir() ?? '', 'ocilab'),
      OCILAB_LAB: lab.id,
      OCILAB_STEP_NUMBER: String(options.index + 1),
      OCILAB_STEPS: String(lab.steps.length),
    };
    // `script` runs its command with $SHELL -c; the directory name comes from mkdtemp, quoted anyway.
    const command = `exec ${quote(bash)} --rcfile ${quote(join(dir, FILES.rc))} -i`;
    await runProcess(script, ['--quiet', '--flush', '--return', '--command', command, join(dir, FILES.typescript)], {
      cwd: workdir,
      env,
      tty: true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return await readShellCommands(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The commands recorded so far in a session's directory (also while the shell is still open). */
export async function readShellCommands(dir: string): Promise<LearnerCommand[]> {
  const read = (name: string) => readFile(join(dir, name), 'utf8').catch(() => '');
  return parseTranscript(await read(FILES.records), await read(FILES.typescript));
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
