import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandCheck } from '../../src/checks/command.js';
import type { CheckContext } from '../../src/checks/types.js';
import type { CommandCheck } from '../../src/lab/model.js';

let workdir: string;

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'ocilab-command-check-'));
  await writeFile(join(workdir, 'marker'), 'in the workspace\n');
});

afterAll(async () => {
  await rm(workdir, { recursive: true, force: true });
});

const ctx = (over: Partial<CheckContext> = {}): CheckContext => ({
  workdir,
  vars: { img: 'busybox; echo injected' },
  privilege: 'none',
  ...over,
});

function check(run: string, fields: Partial<CommandCheck> = {}): CommandCheck {
  return { kind: 'command', line: 1, run, ...fields };
}

describe('command check', () => {
  it('runs in the workspace', async () => {
    expect(await commandCheck(check('cat marker', { equals: 'in the workspace' }), ctx())).toMatchObject({ status: 'passed' });
  });

  it('passes lab variables as environment variables, never as command text', async () => {
    expect(await commandCheck(check('echo "$img"', { equals: 'busybox; echo injected' }), ctx())).toMatchObject({ status: 'passed' });
  });

  it('expects exit 0 by default', async () => {
    expect(await commandCheck(check('exit 3'), ctx())).toMatchObject({ status: 'failed', expected: 'exit status 0' });
  });

  it('judges stdout and stderr together, as a terminal shows them', async () => {
    expect(await commandCheck(check('echo out; echo err >&2', { lines: 2, contains: 'err' }), ctx())).toMatchObject({ status: 'passed' });
  });

  it('shows the expected and actual values of a wrong output', async () => {
    expect(await commandCheck(check('echo runc', { equals: 'runc-demo' }), ctx())).toMatchObject({
      status: 'failed',
      expected: 'runc-demo',
      actual: 'runc',
    });
  });

  it('runs sudo as a plain call when running as root', async () => {
    expect(await commandCheck(check('sudo -n echo ok', { equals: 'ok' }), ctx({ privilege: 'root' }))).toMatchObject({ status: 'passed' });
  });

  it('reports a cancelled check as an error', async () => {
    const controller = new AbortController();
    const running = commandCheck(check('sleep 30'), ctx({ signal: controller.signal }));
    controller.abort();
    expect(await running).toMatchObject({ status: 'error', message: 'The check was cancelled.' });
  });
});
