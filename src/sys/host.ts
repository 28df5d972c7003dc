// Facts about the machine ocilab runs on: who we are, where ocilab itself is, and which commands exist.
import { existsSync, readFileSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/**
 * The directory of ocilab's package.json above the module `from` (a file URL). The code may run from
 * src/ (tests), dist/ (tsc) or the bundle in dist/bin/, so it walks up rather than counting levels.
 */
export function findPackageRoot(from: string): string {
  for (let dir = dirname(fileURLToPath(from)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'ocilab') return dir;
    if (dirname(dir) === dir) throw new Error(`ocilab's package.json not found above ${fileURLToPath(from)}`);
  }
}

/** A file shipped in ocilab's package, e.g. `packageFile('share', 'ocilab-shell.bash')`. */
export function packageFile(...parts: string[]): string {
  return join(findPackageRoot(import.meta.url), ...parts);
}

let commandDir: string | null | undefined;

/** `bin/` of ocilab's package, which holds the `ocilab` command for lab scripts; undefined if it is not there. */
export function ocilabCommandDir(): string | undefined {
  if (commandDir === undefined) {
    try {
      const dir = join(findPackageRoot(import.meta.url), 'bin');
      commandDir = existsSync(join(dir, 'ocilab')) ? dir : null;
    } catch {
      commandDir = null;
    }
  }
  return commandDir ?? undefined;
}

/**
 * The PATH lab commands, ways and checks run with: ocilab's `bin/` first, then `path`. So `ocilab` in
 * a lab is always the ocilab running the lab, the version the lab was written for, even when another
 * one is installed; the directory holds nothing else, so no other command is shadowed.
 */
export function labPath(path = process.env.PATH ?? ''): string {
  const dir = ocilabCommandDir();
  if (dir === undefined) return path;
  return [dir, ...path.split(delimiter).filter((entry) => entry !== '' && entry !== dir)].join(delimiter);
}

/** The full path of a command on the lab PATH (see labPath), or undefined. */
export async function which(command: string, path = labPath()): Promise<string | undefined> {
  if (command.includes('/')) return (await isExecutable(command)) ? command : undefined;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
