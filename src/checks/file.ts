// The `file` check: a path in the workspace, or a path inside a root filesystem resolved the way the
// container will see it — its symlinks are followed inside that directory, never onto the host.
import type { Stats } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { FileCheck } from '../lab/model.js';
import { expand } from '../lab/variables.js';
import { lookupInRoot } from '../oci/rootfs-path.js';
import type { CheckContext, CheckResult } from './types.js';

/** What a path leads to: in the workspace, or inside a rootfs through `lookupInRoot`. */
type Lookup = { found: true; hostPath: string; stats: Stats } | { found: false; reason: string };

export async function fileCheck(check: FileCheck, ctx: CheckContext): Promise<CheckResult> {
  const path = expand(check.path, ctx.vars);
  const rootName = check.root === undefined ? undefined : expand(check.root, ctx.vars);
  const where = rootName === undefined ? path : `${path} in ${rootName}`;
  const lookup = (followLast: boolean): Promise<Lookup> =>
    rootName === undefined
      ? lookupOnHost(resolve(ctx.workdir, path), followLast)
      : lookupInRoot(resolve(ctx.workdir, rootName), path, followLast);

  const target = await lookup(true);
  // `type: symlink` is about the link itself; every other property is about what it points to.
  const subject = check.type === 'symlink' ? await lookup(false) : target;

  if (!subject.found) {
    if (!check.exists) return { status: 'passed', message: `${where} does not exist` };
    return { status: 'failed', message: `${where} does not exist: ${subject.reason}.`, expected: 'exists', actual: subject.reason };
  }
  if (!check.exists) {
    const kind = describeKind(subject.stats);
    return { status: 'failed', message: `${where} exists (${kind}) but should not.`, expected: 'absent', actual: kind };
  }

  const passed = ['exists'];
  if (check.type !== undefined) {
    if (kindOf(subject.stats) !== check.type) {
      const actual = describeKind(subject.stats);
      return {
        status: 'failed',
        message: `${where} is ${actual}, not ${KIND_LABEL[check.type]}.`,
        expected: KIND_LABEL[check.type],
        actual,
      };
    }
    passed.push(`is ${KIND_LABEL[check.type]}`);
  }

  if (check.notEmpty || check.executable) {
    if (!target.found) {
      return {
        status: 'failed',
        message: `${where} leads nowhere: ${target.reason}.`,
        expected: check.notEmpty ? 'not empty' : 'executable',
        actual: target.reason,
      };
    }
    if (check.notEmpty) {
      const emptiness = await describeEmptiness(target.hostPath, target.stats);
      if (emptiness) return { status: 'failed', message: `${where} is ${emptiness}.`, expected: 'not empty', actual: emptiness };
      passed.push('is not empty');
    }
    if (check.executable) {
      const problem = notExecutable(target.stats);
      if (problem)
        return {
          status: 'failed',
          message: `${where} is not executable: it is ${problem}.`,
          expected: 'an executable file',
          actual: problem,
        };
      passed.push('is executable');
    }
  }
  return { status: 'passed', message: `${where} ${joinWords(passed)}` };
}

/** A path of the workspace, looked up the ordinary way. */
async function lookupOnHost(hostPath: string, followLast: boolean): Promise<Lookup> {
  try {
    return { found: true, hostPath, stats: followLast ? await stat(hostPath) : await lstat(hostPath) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') return { found: false, reason: 'too many levels of symbolic links' };
    if (!isMissing(error)) throw error;
  }
  // stat fails on a dangling link; say so rather than "does not exist" when the link itself is there.
  const link = await readlink(hostPath).catch(() => undefined);
  return {
    found: false,
    reason: link === undefined ? 'no such file or directory' : `it is a symbolic link to ${link}, which does not exist`,
  };
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

type Kind = NonNullable<FileCheck['type']> | 'other';

const KIND_LABEL: Record<Kind, string> = {
  file: 'a regular file',
  directory: 'a directory',
  symlink: 'a symbolic link',
  other: 'a special file (device, socket or pipe)',
};

function kindOf(stats: Stats): Kind {
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isDirectory()) return 'directory';
  if (stats.isFile()) return 'file';
  return 'other';
}

function describeKind(stats: Stats): string {
  return KIND_LABEL[kindOf(stats)];
}

/** Why the thing is empty, or undefined when it is not. */
async function describeEmptiness(hostPath: string, stats: Stats): Promise<string | undefined> {
  if (stats.isDirectory()) return (await readdir(hostPath)).length === 0 ? 'an empty directory' : undefined;
  if (stats.isFile()) return stats.size === 0 ? 'an empty file (0 bytes)' : undefined;
  return undefined;
}

/** Why the thing is not executable, or undefined when it is. */
function notExecutable(stats: Stats): string | undefined {
  if (!stats.isFile()) return describeKind(stats);
  if ((stats.mode & 0o111) === 0) return `a file with mode ${(stats.mode & 0o7777).toString(8).padStart(4, '0')} (no x bit)`;
  return undefined;
}

function joinWords(parts: string[]): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}
