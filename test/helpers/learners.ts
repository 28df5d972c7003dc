// Normal users for end-to-end tests, made as a workshop machine has them: one whose sudo asks for a
// password, one with passwordless sudo, one without sudo. Created once per machine (the test must run
// as root), each with a fresh home for every test file that asks, so no progress leaks between files.
import { rm, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { repoRoot } from './cli.js';
import { isRoot } from './services.js';

export type LearnerKind = 'sudo-password' | 'sudo-nopasswd' | 'no-sudo';

export interface Learner {
  kind: LearnerKind;
  name: string;
  /** What `sudo` asks this user for (every learner has one, to log in with). */
  password: string;
  home: string;
  uid: number;
  gid: number;
}

// OCILAB_TEST_LEARNERS renames them (`learner2-pw`...), so that two test runs on one machine do not
// empty each other's homes.
const PREFIX = process.env.OCILAB_TEST_LEARNERS || 'learner';
const NAMES: Record<LearnerKind, string> = {
  'sudo-password': `${PREFIX}-pw`,
  'sudo-nopasswd': `${PREFIX}-nopw`,
  'no-sudo': `${PREFIX}-nosudo`,
};

const SUDOERS: Record<LearnerKind, string | undefined> = {
  'sudo-password': 'ALL=(ALL:ALL) ALL',
  'sudo-nopasswd': 'ALL=(ALL:ALL) NOPASSWD: ALL',
  'no-sudo': undefined,
};

const PASSWORD = 'Learn-2-runc';

/** Whether this machine can make learners: root, with useradd and sudo installed. */
export async function learnersUsable(): Promise<boolean> {
  if (!isRoot()) return false;
  for (const tool of ['useradd', 'sudo', 'runuser', 'tmux', 'script']) {
    if ((await execa('sh', ['-c', `command -v ${tool}`], { reject: false })).exitCode !== 0) return false;
  }
  return true;
}

async function run(file: string, args: string[], input?: string): Promise<string> {
  const result = await execa(file, args, { reject: false, ...(input === undefined ? { stdin: 'ignore' } : { input }) });
  if (result.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} failed (${result.exitCode}):\n${result.stderr}`);
  return result.stdout;
}

/**
 * The learner of this kind, created if missing, with an empty home. The repository must be readable by
 * them (it is under /work, mode 755), since they run the ocilab the tests built.
 */
export async function learner(kind: LearnerKind): Promise<Learner> {
  const name = NAMES[kind];
  if ((await execa('id', ['-u', name], { reject: false })).exitCode !== 0) {
    await run('useradd', ['--create-home', '--shell', '/bin/bash', name]);
  }
  await run('chpasswd', [], `${name}:${PASSWORD}\n`);
  const rule = SUDOERS[kind];
  const sudoers = `/etc/sudoers.d/${name}`;
  if (rule) {
    // sudo's timestamp is per terminal (its default); a test types the password where sudo asks.
    await writeFile(sudoers, `${name} ${rule}\n`, { mode: 0o440 });
  } else {
    await rm(sudoers, { force: true });
  }
  const [uid, gid, home] = (await run('getent', ['passwd', name])).split(':').filter((_, i) => i === 2 || i === 3 || i === 5);
  // A fresh home: no progress, workspace or sudo lecture flag from an earlier test file.
  await run('sh', ['-c', `find "$1" -mindepth 1 -delete && cp -rT /etc/skel "$1" && chown -R "$2:$3" "$1"`, 'sh', home!, uid!, gid!]);
  await run('sudo', ['--reset-timestamp', '--user', name, 'true']).catch(() => undefined);
  return { kind, name, password: PASSWORD, home: home!, uid: Number(uid), gid: Number(gid) };
}

/** The built ocilab, as a learner runs it: the `bin/ocilab` script of the package. */
export const learnerOcilab = `${repoRoot}/bin/ocilab`;

export interface AsLearnerResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  all: string;
}

/** Runs a command as the learner, with a login-like environment (HOME, USER, PATH) and no terminal. */
export async function asLearner(
  who: Pick<Learner, 'name' | 'home'>,
  args: string[],
  options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<AsLearnerResult> {
  const env = {
    HOME: who.home,
    USER: who.name,
    LOGNAME: who.name,
    SHELL: '/bin/bash',
    PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    NO_COLOR: '1',
    LANG: 'C.UTF-8',
    ...options.env,
  };
  const result = await execa('runuser', ['-u', who.name, '--', 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...args], {
    reject: false,
    all: true,
    cwd: who.home,
    timeout: options.timeoutMs ?? 300_000,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, all: result.all ?? '' };
}
