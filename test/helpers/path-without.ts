// A PATH on which some commands are missing, for tests of what a lab does on a machine without them
// (systemd-analyze, say): every other program of the usual directories stays reachable by its name.
import { mkdtemp, readdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The directories searched; /bin and /sbin are links to these on a merged-/usr system such as Debian 12. */
const DIRECTORIES = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'] as const;

/**
 * A PATH of one new directory (under `parent`, or the temp directory) holding a link to every program
 * of the usual directories except `missing`, first found first as a shell would.
 */
export async function pathWithout(missing: readonly string[], parent = tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(parent, 'path-without-'));
  const linked = new Set<string>(missing);
  for (const from of DIRECTORIES) {
    const names = await readdir(from).catch(() => [] as string[]);
    for (const name of names) {
      if (linked.has(name)) continue;
      linked.add(name);
      await symlink(join(from, name), join(dir, name));
    }
  }
  return dir;
}
