import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileCheck } from '../../src/checks/file.js';
import { lookupInRoot } from '../../src/oci/rootfs-path.js';
import type { CheckContext } from '../../src/checks/types.js';
import type { FileCheck } from '../../src/lab/model.js';
import { makeBusyboxRootfs } from '../helpers/rootfs.js';

/** A host file the rootfs does not have, so a lookup that escapes the rootfs would find it. */
const HOST_ONLY = '/etc/passwd';

let workdir: string;
let rootfs: string;

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'ocilab-file-check-'));
  rootfs = join(workdir, 'rootfs');
  await makeBusyboxRootfs(rootfs);
  await symlink(`../../../../../../../../..${HOST_ONLY}`, join(rootfs, 'bin', 'climb'));
  await symlink(HOST_ONLY, join(rootfs, 'bin', 'absolute-host-path'));
  await symlink('/nowhere/busybox', join(rootfs, 'bin', 'dangling'));
  await symlink('loop', join(rootfs, 'bin', 'loop'));
  await mkdir(join(rootfs, 'usr', 'lib'), { recursive: true });
  await writeFile(join(rootfs, 'usr', 'lib', 'libx.so'), 'x');
  await symlink('/usr/lib', join(rootfs, 'lib'));
  await mkdir(join(rootfs, 'usr', 'bin'));
  await symlink('../../bin/busybox', join(rootfs, 'usr', 'bin', 'relative'));
  await writeFile(join(rootfs, 'etc', 'empty'), '');
  await writeFile(join(rootfs, 'etc', 'motd'), 'hello\n', { mode: 0o644 });
  await mkdir(join(rootfs, 'empty-dir'));
  await writeFile(join(workdir, 'config.json'), '{}');
  await symlink('config.json', join(workdir, 'config-link.json'));
  await symlink('missing.json', join(workdir, 'dangling.json'));
});

afterAll(async () => {
  await rm(workdir, { recursive: true, force: true });
});

const ctx = (): CheckContext => ({ workdir, vars: { fs: 'rootfs', shell: 'sh' }, privilege: 'none' });

function check(fields: Partial<FileCheck> & { path: string }): FileCheck {
  return { kind: 'file', line: 1, exists: true, ...fields };
}

describe('file check inside a rootfs', () => {
  it('has a host file the rootfs lacks, so escapes would show', () => {
    expect(existsSync(HOST_ONLY)).toBe(true);
    expect(existsSync(join(rootfs, HOST_ONLY))).toBe(false);
  });

  const passing: [name: string, fields: Partial<FileCheck> & { path: string }][] = [
    ['resolves an absolute symlink inside the rootfs', { path: 'bin/sh', root: 'rootfs', type: 'file', executable: true }],
    ['accepts an absolute path as rooted at the rootfs', { path: '/bin/sh', root: 'rootfs', executable: true }],
    ['expands variables in root and path', { path: '/bin/${shell}', root: '${fs}', executable: true }],
    ['sees the link itself for type symlink', { path: 'bin/sh', root: 'rootfs', type: 'symlink' }],
    ['follows a relative symlink', { path: 'usr/bin/relative', root: 'rootfs', executable: true }],
    ['follows an absolute symlink to a directory in the middle of a path', { path: 'lib/libx.so', root: 'rootfs', type: 'file' }],
    ['keeps .. at the rootfs', { path: '../../../bin/busybox', root: 'rootfs', type: 'file' }],
    ['does not follow a climbing symlink onto the host', { path: 'bin/climb', root: 'rootfs', exists: false }],
    ['does not follow an absolute symlink onto the host', { path: 'bin/absolute-host-path', root: 'rootfs', exists: false }],
    ['does not reach the host through .. either', { path: `../../../..${HOST_ONLY}`, root: 'rootfs', exists: false }],
    ['treats a dangling link as absent', { path: 'bin/dangling', root: 'rootfs', exists: false }],
    ['still sees a dangling link as a symlink', { path: 'bin/dangling', root: 'rootfs', type: 'symlink' }],
    ['finds a directory', { path: 'proc', root: 'rootfs', type: 'directory' }],
    ['finds the rootfs itself', { path: '/', root: 'rootfs', type: 'directory', notEmpty: true }],
    ['finds a non-empty file', { path: 'etc/motd', root: 'rootfs', notEmpty: true }],
  ];
  it.each(passing)('passes: %s', async (_name, fields) => {
    expect(await fileCheck(check(fields), ctx())).toMatchObject({ status: 'passed' });
  });

  const failing: [name: string, fields: Partial<FileCheck> & { path: string }, expected: string, actual: RegExp][] = [
    [
      'reports a climbing symlink as missing inside the rootfs',
      { path: 'bin/climb', root: 'rootfs' },
      'exists',
      /^\/etc\/passwd does not exist \(reached through the symbolic link \/bin\/climb -> /,
    ],
    [
      'names the link of a dangling symlink',
      { path: 'bin/dangling', root: 'rootfs' },
      'exists',
      /^\/nowhere does not exist \(reached through the symbolic link \/bin\/dangling -> \/nowhere\/busybox\)$/,
    ],
    ['stops a symlink loop', { path: 'bin/loop', root: 'rootfs' }, 'exists', /too many levels of symbolic links/],
    ['fails a path through a file', { path: 'etc/motd/x', root: 'rootfs' }, 'exists', /^\/etc\/motd is not a directory$/],
    ['fails an empty file for notEmpty', { path: 'etc/empty', root: 'rootfs', notEmpty: true }, 'not empty', /^an empty file \(0 bytes\)$/],
    ['fails an empty directory for notEmpty', { path: 'empty-dir', root: 'rootfs', notEmpty: true }, 'not empty', /^an empty directory$/],
    [
      'fails a file without an x bit',
      { path: 'etc/motd', root: 'rootfs', executable: true },
      'an executable file',
      /^a file with mode 0644 \(no x bit\)$/,
    ],
    ['fails a directory for executable', { path: 'bin', root: 'rootfs', executable: true }, 'an executable file', /^a directory$/],
    ['fails the wrong type', { path: 'bin/sh', root: 'rootfs', type: 'directory' }, 'a directory', /^a regular file$/],
    ['fails a path that should be absent', { path: 'bin/busybox', root: 'rootfs', exists: false }, 'absent', /^a regular file$/],
    ['fails a missing rootfs', { path: 'bin/sh', root: 'no-rootfs' }, 'exists', /no-rootfs does not exist$/],
  ];
  it.each(failing)('fails: %s', async (_name, fields, expected, actual) => {
    const outcome = await fileCheck(check(fields), ctx());
    expect(outcome).toMatchObject({ status: 'failed', expected });
    expect(outcome.status === 'failed' && outcome.actual).toMatch(actual);
  });

  it('names the path and the rootfs in its message', async () => {
    const outcome = await fileCheck(check({ path: 'bin/nope', root: 'rootfs' }), ctx());
    expect(outcome.message).toBe('bin/nope in rootfs does not exist: /bin/nope does not exist.');
  });
});

describe('lookupInRoot', () => {
  it('returns the host path inside the rootfs that an absolute link leads to', async () => {
    const found = await lookupInRoot(rootfs, 'bin/sh');
    expect(found).toMatchObject({ found: true, hostPath: join(rootfs, 'bin', 'busybox') });
  });

  it('returns the link itself when told not to follow the last component', async () => {
    const found = await lookupInRoot(rootfs, 'bin/sh', false);
    expect(found.found && found.stats.isSymbolicLink()).toBe(true);
  });
});

describe('file check in the workspace', () => {
  it.each([
    ['finds a relative path in the workdir', { path: 'config.json', type: 'file' }],
    ['follows a symlink in the workspace', { path: 'config-link.json', type: 'file' }],
    ['passes exists false for a missing file', { path: 'nothing', exists: false }],
  ] as [string, Partial<FileCheck> & { path: string }][])('passes: %s', async (_name, fields) => {
    expect(await fileCheck(check(fields), ctx())).toMatchObject({ status: 'passed' });
  });

  it('says a dangling link points nowhere', async () => {
    expect(await fileCheck(check({ path: 'dangling.json' }), ctx())).toMatchObject({
      status: 'failed',
      actual: 'it is a symbolic link to missing.json, which does not exist',
    });
  });

  it('fails a missing file', async () => {
    expect(await fileCheck(check({ path: 'missing.json' }), ctx())).toMatchObject({
      status: 'failed',
      expected: 'exists',
      actual: 'no such file or directory',
    });
  });
});
