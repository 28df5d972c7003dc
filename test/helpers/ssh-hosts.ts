// "Student hosts" for the Ansible tests: one real sshd per host on a loopback port, each with a learner
// account of its own, and one admin account with passwordless sudo that Ansible logs in as, with a key
// pair made for the test. Root's own login files are not used: they are this machine's, not a host's.
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { startDaemon, stopProcess } from './daemon.js';

export const SSHD = '/usr/sbin/sshd';

// OCILAB_TEST_LEARNERS renames the accounts (as test/helpers/learners.ts does), so that two test runs
// on one machine do not remove each other's.
const PREFIX = process.env.OCILAB_TEST_LEARNERS || 'learner';

const READY_TIMEOUT_MS = 15_000;

export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface StudentHost {
  /** Its name in the inventory, e.g. `ws1`. */
  name: string;
  /** The loopback port its sshd listens on. */
  port: number;
  learner: Account;
}

export interface Room {
  hosts: StudentHost[];
  /** The account Ansible logs in as on every host. */
  admin: Account;
  /** The controller's private key, which every host's admin accepts. */
  key: string;
  stop(): Promise<void>;
}

async function run(file: string, args: string[], input?: string): Promise<string> {
  const result = await execa(file, args, { reject: false, ...(input === undefined ? { stdin: 'ignore' } : { input }) });
  if (result.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} failed (${result.exitCode}):\n${result.stderr}`);
  return result.stdout;
}

/** A new account with an empty home; one left by an earlier run that crashed is made again. */
export async function createAccount(name: string): Promise<Account> {
  if ((await execa('id', ['-u', name], { reject: false })).exitCode === 0) await removeAccount(name);
  await run('useradd', ['--create-home', '--shell', '/bin/bash', name]);
  const fields = (await run('getent', ['passwd', name])).split(':');
  return { name, uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5] ?? `/home/${name}` };
}

export async function removeAccount(name: string): Promise<void> {
  await execa('userdel', ['--remove', '--force', name], { reject: false, stdin: 'ignore' });
  await rm(`/etc/sudoers.d/${name}`, { force: true });
}

/** The admin: logs in with the key only (sshd refuses a locked account, so its password is `*`), and may sudo. */
async function createAdmin(): Promise<Account> {
  const admin = await createAccount(`${PREFIX}-admin`);
  await run('usermod', ['--password', '*', admin.name]);
  await writeFile(`/etc/sudoers.d/${admin.name}`, `${admin.name} ALL=(ALL:ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
  return admin;
}

function sshdConfig(dir: string, port: number, admin: string): string {
  return [
    `ListenAddress 127.0.0.1:${port}`,
    `HostKey ${join(dir, 'host_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    // One file for the test's key; sshd reads it as the user logging in, so it is world-readable, and
    // StrictModes would refuse it for lying outside that user's home.
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'StrictModes no',
    `AllowUsers ${admin}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin no',
    // No PAM: the container this may run in has no login session machinery; keys are all it needs.
    'UsePAM no',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

/** Whether the port answers with an SSH banner. */
function answersSsh(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('SSH-')));
  });
}

/** Every process below `pid`: sshd forks one per connection, and those outlive the listener. */
async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The parent's pid is the second field after the command name, which is in parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (Number.isInteger(ppid)) parents.set(Number(entry), ppid);
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

async function stopSshd(child: ResultPromise): Promise<void> {
  const pid = child.pid;
  if (pid !== undefined) {
    for (const session of await descendants(pid)) {
      try {
        process.kill(session, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }
  await stopProcess(child);
}

/**
 * Starts an sshd for one host in `dir`, on a port free when picked; one that exits early (the port was
 * taken in between) is started again on another.
 */
function startSshd(dir: string, admin: string): Promise<{ port: number; child: ResultPromise }> {
  return startDaemon({
    file: SSHD,
    argsFor: async (port) => {
      const config = join(dir, 'sshd_config');
      await writeFile(config, sshdConfig(dir, port, admin));
      return ['-D', '-e', '-f', config];
    },
    answers: answersSsh,
    asked: (port) => `on port ${port}`,
    readyTimeoutMs: READY_TIMEOUT_MS,
  });
}

/**
 * Starts one sshd per host name, each with the learner account `<prefix>-<host>`, under `dir` (which
 * must exist). stop() ends the sshds and their sessions and removes the accounts.
 */
export async function startRoom(names: readonly string[], dir: string): Promise<Room> {
  const sshds: ResultPromise[] = [];
  const accounts: string[] = [];
  const stop = async () => {
    for (const child of sshds) await stopSshd(child);
    for (const name of accounts) await removeAccount(name);
  };
  try {
    const key = join(dir, 'controller_key');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ocilab-tests', '-f', key]);
    const admin = await createAdmin();
    accounts.push(admin.name);
    // sshd refuses to start without its privilege separation directory, which systemd would make.
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    const hosts: StudentHost[] = [];
    for (const name of names) {
      const hostDir = join(dir, `sshd-${name}`);
      await mkdir(hostDir);
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(hostDir, 'host_key')]);
      await writeFile(join(hostDir, 'authorized_keys'), await readFile(`${key}.pub`, 'utf8'));
      await chmod(join(hostDir, 'authorized_keys'), 0o644);
      const learner = await createAccount(`${PREFIX}-${name}`);
      accounts.push(learner.name);
      const { port, child } = await startSshd(hostDir, admin.name);
      sshds.push(child);
      hosts.push({ name, port, learner });
    }
    return { hosts, admin, key, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
