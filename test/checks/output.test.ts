import { describe, expect, it } from 'vitest';
import { NO_STEP_OUTPUT, outputCheck } from '../../src/checks/output.js';
import type { CheckContext } from '../../src/checks/types.js';
import type { OutputCheck } from '../../src/lab/model.js';

const ctx = (stepOutput: string | undefined): CheckContext => ({
  workdir: '/nonexistent',
  vars: {},
  privilege: 'none',
  ...(stepOutput === undefined ? {} : { stepOutput }),
});

function check(fields: Partial<OutputCheck> = {}): OutputCheck {
  return { kind: 'output', line: 1, ...fields };
}

describe('output check', () => {
  it("judges the step's recorded output", async () => {
    expect(await outputCheck(check({ lines: { min: 2 } }), ctx('1.36\nlatest\n'))).toMatchObject({ status: 'passed' });
  });

  it('fails with the expected and actual text', async () => {
    expect(await outputCheck(check({ equals: 'runc-demo' }), ctx('runc\n'))).toMatchObject({
      status: 'failed',
      expected: 'runc-demo',
      actual: 'runc',
    });
  });

  it('is an error when the step did not run in this session', async () => {
    expect(await outputCheck(check({ lines: { min: 1 } }), ctx(undefined))).toEqual({ status: 'error', message: NO_STEP_OUTPUT });
  });

  it('is an error when asked for an exit status it cannot see', async () => {
    expect(await outputCheck(check({ exit: 0 }), ctx('x'))).toMatchObject({ status: 'error' });
  });
});

describe("output check on what the learner typed in ocilab's shell", () => {
  const typed = (line: string, exit: number, output: string) => ({ line, exit, output, seconds: 0, at: '' });
  const shell = (...typedCommands: ReturnType<typeof typed>[]): CheckContext => ({ ...ctx('from ocilab'), typed: typedCommands });

  it('judges the last command matching the check’s pattern, not the last command', async () => {
    const context = shell(typed('curl -sL u | jq -r .tags[]', 0, 'v1\nv2\n'), typed('echo hi', 0, 'hi\n'));
    expect(await outputCheck(check({ typed: '\\bcurl\\b', lines: 2 }), context)).toMatchObject({ status: 'passed' });
    expect(await outputCheck(check({ typed: '\\bcurl\\b', equals: 'hi' }), context)).toMatchObject({ status: 'failed', actual: 'v1\nv2' });
  });

  it('without a pattern, judges the last command that succeeded', async () => {
    const context = shell(typed('hostname', 0, 'runc-demo\n'), typed('hostnme', 127, 'not found\n'));
    expect(await outputCheck(check({ equals: 'runc-demo' }), context)).toMatchObject({ status: 'passed' });
  });

  it('says which command it looked for when none was typed', async () => {
    const outcome = await outputCheck(check({ typed: '\\bcrane\\b', lines: 1 }), shell(typed('ls', 0, 'a\n')));
    expect(outcome).toMatchObject({ status: 'error' });
    expect(outcome.message).toMatch(
      /None of the commands you typed in ocilab's shell is this step's command \(a line matching \/\\bcrane\\b\/\)/,
    );
  });

  it("tells a learner who did the step elsewhere to type it in ocilab's shell", () => {
    expect(NO_STEP_OUTPUT).toMatch(/type it in ocilab's shell so it can see the output/);
  });
});
