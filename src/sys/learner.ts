// Whose labs these are: the user running ocilab, or, when ocilab runs as root under sudo anyway, the
// user who typed sudo. Their home holds the workspaces and the progress, and what ocilab creates there
// is given to them, so that they can go on without sudo.
import { readFileSync } from 'node:fs';
import { chown, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';

export interface Learner {
  /** Where the workspaces (`~/ocilab/<id>`) and the progress (`~/.local/state/ocilab`) are. */
  home: string;
  /** Set when ocilab runs as root under sudo for another user: what it creates for them is given to them. */
  sudoFrom?: { name: string; uid: number; gid: number };
}

let cached: Learner | undefined;

/** The learner of this process (read once: the environment and /etc/passwd do not change under it). */
export function learner(): Learner {
  cached ??= findLearner(process.env, process.geteuid?.() ?? -1, readPasswd());
  return cached;
}

/**
 * Pure: under sudo (euid 0, SUDO_USER a user other than root, with SUDO_UID and SUDO_GID) the learner
 * is that user, with the home /etc/passwd gives them; otherwise whoever runs ocilab.
 */
export function findLearner(env: NodeJS.ProcessEnv, euid: number, passwd: string | undefined): Learner {
  const name = env.SUDO_USER;
  const uid = Number(env.SUDO_UID);
  const gid = Number(env.SUDO_GID);
  if (euid !== 0 || !name || name === 'root' || !Number.isInteger(uid) || uid === 0 || !Number.isInteger(gid)) return { home: homedir() };
  const entry = passwd
    ?.split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === name && Number(fields[2]) === uid);
  const home = entry?.[5];
  // A user /etc/passwd does not know (a directory service) keeps root's own: better than a guessed home.
  if (!home) return { home: homedir() };
  return { home, sudoFrom: { name, uid, gid } };
}

function readPasswd(): string | undefined {
  try {
    return readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
}

/** Gives paths ocilab created to the learner it runs under sudo for; does nothing otherwise. */
export async function giveToLearner(...paths: string[]): Promise<void> {
  const owner = learner().sudoFrom;
  if (!owner) return;
  for (const path of paths) await chown(path, owner.uid, owner.gid);
}

/** `mkdir -p`, with every directory it made given to the learner. */
export async function makeLearnerDirectory(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined || !learner().sudoFrom) return;
  // mkdir names the first directory it made; the rest lie between it and `dir`.
  const made: string[] = [];
  for (let path = resolve(dir); ; path = dirname(path)) {
    made.push(path);
    if (path === first || dirname(path) === path) break;
  }
  await giveToLearner(...made.reverse());
}
