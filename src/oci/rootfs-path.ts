// Paths inside a root filesystem, resolved the way a process whose root is that directory sees them:
// its symlinks are followed inside the directory, never onto the host, and `..` never climbs above it.
// The one resolver of the project.
import type { Stats } from 'node:fs';
import { chmod, lstat, mkdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Linux gives up after 40 symlinks in one lookup (MAXSYMLINKS); so do we. */
export const MAX_SYMLINK_HOPS = 40;

/** What a lookup found: the host path of the thing, its path as seen inside the root, and its lstat. */
export interface InRoot {
  hostPath: string;
  /** Absolute inside the root, free of symlinks, `.` and `..`: `/usr/lib`, or `/` for the root itself. */
  path: string;
  stats: Stats;
}

export type Lookup = ({ found: true } & InRoot) | { found: false; reason: string };

/** Why a path inside a root cannot be made a directory. `code` is the errno Linux would give. */
export class RootPathError extends Error {
  override name = 'RootPathError';
  constructor(
    message: string,
    readonly code: 'ENOENT' | 'ENOTDIR' | 'ELOOP',
  ) {
    super(message);
  }
}

/**
 * Finds `path` inside the directory `root` as a process whose root is `root` would: component by
 * component, reading each symlink; an absolute target starts again at `root`, and `..` at `root`
 * stays there. Nothing outside `root` is ever looked at, whatever the links say. With `followLast`
 * false a symlink in the last place is returned itself (its parent directories are still followed).
 */
export async function lookupInRoot(root: string, path: string, followLast = true): Promise<Lookup> {
  const rootStats = await stat(root).catch(() => undefined);
  if (!rootStats?.isDirectory()) return { found: false, reason: `the directory ${root} does not exist` };
  const walked = await walk(root, path, followLast, () => Promise.resolve(false));
  if (!walked.ok) return { found: false, reason: walked.reason };
  return { found: true, ...walked.found, stats: walked.found.stats ?? rootStats };
}

/**
 * `mkdir -p` inside `root`: walks `path` like `lookupInRoot`, following every symlink inside the root,
 * and creates what is missing as directories with exactly `mode` (whatever the umask). Returns the
 * directory; throws a RootPathError when a component is not a directory or links loop. A relative
 * `path` is taken from `from`, a directory found earlier (its `path`), which saves walking to it again.
 */
export async function makeDirectoryInRoot(root: string, path: string, mode = 0o755, from = '/'): Promise<InRoot> {
  const create = async (hostPath: string): Promise<boolean> => {
    await mkdir(hostPath, mode);
    await chmod(hostPath, mode);
    return true;
  };
  const walked = await walk(root, path, true, create, from);
  if (!walked.ok) throw new RootPathError(walked.reason, walked.code);
  const { hostPath, path: inside, stats } = walked.found;
  if (stats !== undefined && !stats.isDirectory()) throw new RootPathError(`${inside} is not a directory`, 'ENOTDIR');
  return { hostPath, path: inside, stats: stats ?? (await stat(root)) };
}

/** The components of a path inside a root, without empty ones and `.`; `..` is kept for the walk. */
export function pathComponents(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * The components of a name written for the root (a tar entry, a hard link's target), resolved by
 * their text alone: leading `/` and `./` dropped, `a/../b` made `b`. Undefined when it climbs above the root.
 */
export function lexicalComponents(name: string): string[] | undefined {
  const components: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') components.push(part);
    else if (components.pop() === undefined) return undefined;
  }
  return components;
}

/** The path inside the root of `name` in `directory`: `/` and `etc` make `/etc`, `/etc` and `passwd` `/etc/passwd`. */
export function childPath(directory: string, name: string): string {
  return directory === '/' ? `/${name}` : `${directory}/${name}`;
}

type Walked =
  | { ok: true; found: { hostPath: string; path: string; stats: Stats | undefined } }
  | { ok: false; reason: string; code: RootPathError['code'] };

/**
 * The walk both lookups share, from the directory `from` inside the root. `onMissing` is asked what to
 * do about a component that does not exist: create it (and return true) or give up (false). `stats` is
 * undefined when the walk ends at the root itself.
 */
async function walk(
  root: string,
  path: string,
  followLast: boolean,
  onMissing: (hostPath: string) => Promise<boolean>,
  from = '/',
): Promise<Walked> {
  const pending = pathComponents(path);
  const current = path.startsWith('/') ? [] : pathComponents(from);
  let hops = 0;
  let lastLink: string | undefined;
  let stats: Stats | undefined;
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (name === '..') {
      current.pop();
      stats = undefined;
      continue;
    }
    const inside = `/${[...current, name].join('/')}`;
    const hostPath = join(root, ...current, name);
    const last = pending.length === 0;
    try {
      stats = await lstat(hostPath);
    } catch (error) {
      if (!isMissing(error)) throw error;
      if (!(await onMissing(hostPath))) {
        const through = lastLink ? ` (reached through the symbolic link ${lastLink})` : '';
        return { ok: false, reason: `${inside} does not exist${through}`, code: 'ENOENT' };
      }
      stats = await lstat(hostPath);
    }
    if (stats.isSymbolicLink() && (!last || followLast)) {
      if (++hops > MAX_SYMLINK_HOPS) {
        return { ok: false, reason: `too many levels of symbolic links (more than ${MAX_SYMLINK_HOPS})`, code: 'ELOOP' };
      }
      const linkTarget = await readlink(hostPath);
      lastLink = `${inside} -> ${linkTarget}`;
      if (linkTarget.startsWith('/')) current.length = 0;
      pending.unshift(...pathComponents(linkTarget));
      stats = undefined;
      continue;
    }
    if (!last && !stats.isDirectory()) return { ok: false, reason: `${inside} is not a directory`, code: 'ENOTDIR' };
    current.push(name);
  }
  // After `..` or a link the last lstat is not of where the walk ended: look again, unless that is the root.
  if (stats === undefined && current.length > 0) stats = await lstat(join(root, ...current));
  return { ok: true, found: { hostPath: join(root, ...current), path: `/${current.join('/')}`, stats } };
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
