import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCheck, runCheck } from '../../src/checks/index.js';
import type { CheckContext } from '../../src/checks/types.js';
import type { Check } from '../../src/lab/model.js';

let workdir: string;

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'ocilab-run-check-'));
  await writeFile(join(workdir, 'config.json'), '{"hostname": "runc-demo"}');
});

afterAll(async () => {
  await rm(workdir, { recursive: true, force: true });
});

const ctx = (): CheckContext => ({ workdir, vars: { file: 'config.json' }, privilege: 'none' });

describe('runCheck', () => {
  it('dispatches by kind and returns the outcome with the check', async () => {
    const check: Check = { kind: 'json', line: 3, file: '${file}', path: 'hostname', equals: 'runc-demo' };
    expect(await runCheck(check, ctx())).toEqual({ status: 'passed', message: 'config.json: hostname is "runc-demo"', check });
  });

  it.each([
    ['passes', 'runc-demo', undefined],
    ['fails', 'other', 'The edit step sets the hostname.'],
  ])('gives the lab’s own hint only when the check does not pass (it %s)', async (_, equals, hint) => {
    const check: Check = { kind: 'json', line: 3, file: 'config.json', path: 'hostname', equals, hint: 'The edit step sets the hostname.' };
    const result = await runCheck(check, ctx());
    expect(result.status === 'failed' ? result.hint : undefined).toBe(hint);
  });

  it('skips a check whose skip.if succeeds, with its reason, and judges it when skip.if fails', async () => {
    const skip = { if: 'test "$file" = config.json', because: 'no ${file} here' };
    const check: Check = { kind: 'json', line: 3, file: 'config.json', path: 'hostname', equals: 'other', hint: 'h', skip };
    expect(await runCheck(check, ctx())).toEqual({ status: 'skipped', message: 'no config.json here', check });
    const applies = { ...check, skip: { ...skip, if: 'test -e no-such-file' } };
    expect(await runCheck(applies, ctx())).toMatchObject({ status: 'failed', expected: '"other"', hint: 'h' });
  });

  it('runs skip.if in the workspace', async () => {
    const check: Check = { kind: 'command', line: 1, run: 'exit 1', skip: { if: 'test -f config.json', because: 'the config is here' } };
    expect((await runCheck(check, ctx())).status).toBe('skipped');
  });

  it('turns a check that throws into an error, not a failure', async () => {
    // A check the parser should never produce: expanding its missing path throws a TypeError.
    const broken = { kind: 'json', line: 1 } as unknown as Check;
    expect(await runCheck(broken, ctx())).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/^The check could not run: /),
      check: broken,
    });
  });
});

describe('describeCheck', () => {
  const vars = { file: 'config.json', path: 'library/busybox', scheme: 'http', host: '127.0.0.1:5000' };
  it.each<[Check, string]>([
    [{ kind: 'json', line: 1, file: '${file}', path: 'hostname', equals: 'runc-demo' }, 'config.json: hostname is "runc-demo"'],
    [{ kind: 'json', line: 1, file: 'config.json', path: 'root.readonly', equals: false }, 'config.json: root.readonly is false'],
    [{ kind: 'json', line: 1, file: 'config.json' }, 'config.json is valid JSON'],
    [
      { kind: 'command', line: 1, run: 'runc --version', exit: 0, matches: '^runc version' },
      '`runc --version`: exit status 0, output matches /^runc version/',
    ],
    [{ kind: 'command', line: 1, run: 'test -d rootfs\n ls rootfs' }, '`test -d rootfs …`: exit status 0'],
    [{ kind: 'output', line: 1, lines: { min: 1 } }, "the step's output: at least 1 line of output"],
    [{ kind: 'file', line: 1, path: 'bin/sh', root: 'rootfs', exists: true, executable: true }, 'bin/sh in rootfs: exists, executable'],
    [
      { kind: 'file', line: 1, path: 'rootfs', exists: true, type: 'directory', notEmpty: true },
      'rootfs: exists, is a directory, not empty',
    ],
    [{ kind: 'file', line: 1, path: 'config.json', exists: false }, 'config.json: does not exist'],
    [
      { kind: 'probe', line: 1, bundle: '.', args: ['hostname'], equals: 'runc-demo' },
      'in the container, `hostname`: output is "runc-demo"',
    ],
    [
      { kind: 'probe', line: 1, bundle: '.', args: ['ls', '-1a', '/'], listsDirectory: 'rootfs' },
      'in the container, `ls -1a /`: exit status 0, lists the entries of rootfs',
    ],
    [
      { kind: 'tags', line: 1, registry: '${scheme}://${host}', repository: '${path}' },
      'the output lists the tags of library/busybox at http://127.0.0.1:5000',
    ],
    [{ kind: 'file', line: 1, path: 'x', exists: true, title: 'The ${file} is there' }, 'The config.json is there'],
  ])('describes %j', (check, label) => {
    expect(describeCheck(check, vars)).toBe(label);
  });
});
