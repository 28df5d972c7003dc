// A minimal root filesystem for runc: Debian's static busybox and a few applet links, enough for
// probes such as `hostname`, `sh -c` and `ls /`, and the commands the labs run in it.
import { chmod, copyFile, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Debian's busybox-static: statically linked, so it runs in a rootfs with no libraries. */
export const BUSYBOX = '/bin/busybox';

// chown, mkdir, touch, id, grep, wc, head and rm: lab 7 (guards) makes each guard refuse one of them.
// dd: lab 4's memory hog (a 64 MiB buffer in a container limited to 32 MiB).
export const APPLETS = [
  'sh',
  'hostname',
  'ps',
  'ls',
  'echo',
  'cat',
  'readlink',
  'sleep',
  'chown',
  'mkdir',
  'touch',
  'id',
  'grep',
  'wc',
  'head',
  'rm',
  'dd',
] as const;
const EMPTY_DIRS = ['proc', 'sys', 'dev', 'tmp', 'etc'] as const;

/**
 * Fills `dir` (created if needed) with bin/busybox, absolute links `bin/<applet> -> /bin/busybox` as
 * an image would have them, and the directories runc mounts over.
 */
export async function makeBusyboxRootfs(dir: string): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  for (const name of EMPTY_DIRS) await mkdir(join(dir, name), { recursive: true });
  await chmod(join(dir, 'tmp'), 0o1777);
  await copyFile(BUSYBOX, join(dir, 'bin', 'busybox'));
  await chmod(join(dir, 'bin', 'busybox'), 0o755);
  for (const applet of APPLETS) await symlink('/bin/busybox', join(dir, 'bin', applet));
}
