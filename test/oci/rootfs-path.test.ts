import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SYMLINK_HOPS, RootPathError, lookupInRoot, makeDirectoryInRoot } from '../../src/oci/rootfs-path.js';

let base: string;
let root: string;
let outside: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'ocilab-rootfs-path-'));
  root = join(base, 'rootfs');
  outside = join(base, 'outside');
  await mkdir(join(root, 'usr', 'lib'), { recursive: true });
  await mkdir(join(root, 'etc'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(root, 'etc', 'hostname'), 'inside\n');
  await writeFile(join(outside, 'hostname'), 'outside\n');
  await symlink('usr/lib', join(root, 'lib'));
  await symlink('/etc', join(root, 'etc-abs'));
  await symlink('../../../../../../../../etc', join(root, 'etc-up'));
  await symlink(outside, join(root, 'host-outside'));
  await symlink('missing', join(root, 'dangling'));
  await symlink('loop-b', join(root, 'loop-a'));
  await symlink('loop-a', join(root, 'loop-b'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('lookupInRoot', () => {
  it('restarts an absolute symlink target at the root, not at the host', async () => {
    const found = await lookupInRoot(root, 'etc-abs/hostname');
    expect(found).toMatchObject({ found: true, hostPath: join(root, 'etc', 'hostname'), path: '/etc/hostname' });
  });

  it('never climbs above the root with ..', async () => {
    expect(await lookupInRoot(root, '../../../etc/hostname')).toMatchObject({ found: true, path: '/etc/hostname' });
    expect(await lookupInRoot(root, 'etc-up/hostname')).toMatchObject({ found: true, path: '/etc/hostname' });
  });

  it('looks for the target of a symlink to a host path inside the root', async () => {
    const found = await lookupInRoot(root, 'host-outside/hostname');
    const top = `/${outside.split('/')[1]}`;
    expect(found).toEqual({
      found: false,
      reason: `${top} does not exist (reached through the symbolic link /host-outside -> ${outside})`,
    });
  });

  it('returns the link itself when told not to follow the last component', async () => {
    const found = await lookupInRoot(root, 'lib', false);
    expect(found.found && found.stats.isSymbolicLink()).toBe(true);
    expect(found).toMatchObject({ path: '/lib', hostPath: join(root, 'lib') });
  });

  it('follows symlinks in the parent directories even when not following the last component', async () => {
    expect(await lookupInRoot(root, 'etc-abs/hostname', false)).toMatchObject({ found: true, path: '/etc/hostname' });
  });

  it('gives the root itself for an empty path or a link to /', async () => {
    await symlink('/', join(root, 'to-root'));
    expect(await lookupInRoot(root, '')).toMatchObject({ found: true, path: '/', hostPath: root });
    const found = await lookupInRoot(root, 'to-root');
    expect(found).toMatchObject({ found: true, path: '/', hostPath: root });
    expect(found.found && found.stats.isDirectory()).toBe(true);
  });

  it('says which component is not a directory', async () => {
    expect(await lookupInRoot(root, 'etc/hostname/x')).toEqual({ found: false, reason: '/etc/hostname is not a directory' });
  });

  it('says a dangling link leads nowhere', async () => {
    expect(await lookupInRoot(root, 'dangling')).toEqual({
      found: false,
      reason: '/missing does not exist (reached through the symbolic link /dangling -> missing)',
    });
  });

  it(`gives up after ${MAX_SYMLINK_HOPS} symbolic links, as Linux does`, async () => {
    expect(await lookupInRoot(root, 'loop-a')).toEqual({ found: false, reason: 'too many levels of symbolic links (more than 40)' });
    const chain = join(root, 'chain');
    await mkdir(chain);
    await writeFile(join(chain, 'end'), '');
    for (let i = 0; i <= MAX_SYMLINK_HOPS; i++) await symlink(i === 0 ? 'end' : `link-${i - 1}`, join(chain, `link-${i}`));
    expect(await lookupInRoot(root, `chain/link-${MAX_SYMLINK_HOPS - 1}`)).toMatchObject({ found: true, path: '/chain/end' });
    expect(await lookupInRoot(root, `chain/link-${MAX_SYMLINK_HOPS}`)).toMatchObject({ found: false });
  });

  it('says when the root itself is missing', async () => {
    expect(await lookupInRoot(join(base, 'nope'), 'etc')).toEqual({
      found: false,
      reason: `the directory ${join(base, 'nope')} does not exist`,
    });
  });
});

describe('makeDirectoryInRoot', () => {
  const umask = process.umask();
  afterEach(() => {
    process.umask(umask);
  });

  it('creates missing directories with the mode asked for, whatever the umask', async () => {
    process.umask(0o077);
    const made = await makeDirectoryInRoot(root, 'var/lib/apt');
    expect(made).toMatchObject({ hostPath: join(root, 'var', 'lib', 'apt'), path: '/var/lib/apt' });
    for (const dir of ['var', 'var/lib', 'var/lib/apt']) expect((await stat(join(root, dir))).mode & 0o7777).toBe(0o755);
  });

  it('follows symlinks inside the root and creates what they point to', async () => {
    expect(await makeDirectoryInRoot(root, 'lib/x86_64')).toMatchObject({
      hostPath: join(root, 'usr', 'lib', 'x86_64'),
      path: '/usr/lib/x86_64',
    });
    expect(await makeDirectoryInRoot(root, 'host-outside/new')).toMatchObject({ path: `${outside}/new` });
    expect(existsSync(join(root, outside, 'new'))).toBe(true);
    expect(existsSync(join(outside, 'new'))).toBe(false);
  });

  it('refuses to go through a file', async () => {
    const error = await makeDirectoryInRoot(root, 'etc/hostname/x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RootPathError);
    expect(error).toMatchObject({ code: 'ENOTDIR', message: '/etc/hostname is not a directory' });
  });

  it('refuses a path that ends at a file', async () => {
    await expect(makeDirectoryInRoot(root, 'etc/hostname')).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('refuses symlinks that loop', async () => {
    await expect(makeDirectoryInRoot(root, 'loop-a/x')).rejects.toMatchObject({ code: 'ELOOP' });
  });
});
