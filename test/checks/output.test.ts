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
