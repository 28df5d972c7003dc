import { describe, expect, it } from 'vitest';
import { describeLineCount, judgeOutput, judgeText, normalize } from '../../src/checks/text.js';
import type { TextExpectations } from '../../src/lab/model.js';

type Row = [name: string, actual: string, exitCode: number | undefined, exp: TextExpectations];

describe('judgeText', () => {
  const passing: Row[] = [
    ['ignores a trailing newline', 'runc-demo\n', 0, { equals: 'runc-demo' }],
    ['ignores trailing spaces on every line', 'a  \nb\t\n', 0, { equals: 'a\nb' }],
    ['ignores trailing blank lines', 'a\n\n  \n\n', 0, { equals: 'a' }],
    ['ignores trailing whitespace in the expectation too', 'a', 0, { equals: 'a\n' }],
    ['treats CRLF as LF', 'a\r\nb\r\n', 0, { equals: 'a\nb' }],
    ['finds a substring', 'runc version 1.1.5\ncommit: x\n', 0, { contains: 'version 1.1' }],
    ['anchors ^ at any line (multi-line regex)', 'header\nrunc version 1.1.5\n', 0, { matches: '^runc version' }],
    ['anchors $ at the end of a line with trailing spaces', 'abc   \ndef', 0, { matches: 'c$' }],
    ['counts lines exactly', 'a\nb\nc\n', 0, { lines: 3 }],
    ['counts lines within a minimum', 'a\nb\n', 0, { lines: { min: 1 } }],
    ['counts lines within a range', 'a\nb\n', 0, { lines: { min: 2, max: 2 } }],
    ['counts no output as zero lines', '\n\n', 0, { lines: { max: 0 } }],
    ['expects exit 0 when nothing is expected', 'whatever', 0, {}],
    ['checks an expected non-zero exit status', '', 3, { exit: 3 }],
    ['does not require exit 0 when only text is expected', '0\n', 1, { equals: '0' }],
    ['combines exit status and text', 'runc version 1\n', 0, { exit: 0, matches: '^runc', lines: 1 }],
  ];
  it.each(passing)('passes: %s', (_name, actual, exitCode, exp) => {
    expect(judgeText(actual, exitCode, exp)).toMatchObject({ status: 'passed' });
  });

  const failing: [name: string, actual: string, exitCode: number | undefined, exp: TextExpectations, expected: string, got: string][] = [
    ['shows the two values of a wrong equals', 'runc\n', 0, { equals: 'runc-demo' }, 'runc-demo', 'runc'],
    ['shows no output as such', '', 0, { equals: 'x' }, 'x', '(no output)'],
    ['does not strip leading whitespace', '  a', 0, { equals: 'a' }, 'a', '  a'],
    ['fails a missing substring', 'abc', 0, { contains: 'x' }, 'output containing "x"', 'abc'],
    ['fails a regex that does not match', 'Runc', 0, { matches: '^runc' }, 'output matching /^runc/', 'Runc'],
    ['fails too few lines', 'a\n', 0, { lines: { min: 2 } }, 'at least 2 lines', '1 line: a'],
    ['fails too many lines', 'a\nb\nc', 0, { lines: { max: 2 } }, 'at most 2 lines', '3 lines: a\nb\nc'],
    ['fails a wrong exact count of no output', '', 0, { lines: 1 }, '1 line', '0 lines (no output)'],
    ['fails a non-zero exit when nothing is expected', 'oops\n', 1, {}, 'exit status 0', 'exit status 1; output: oops'],
    ['fails a wrong expected exit status', '', 0, { exit: 2 }, 'exit status 2', 'exit status 0; output: (no output)'],
    [
      'fails a process stopped by a signal',
      '',
      undefined,
      {},
      'exit status 0',
      'no exit status (stopped by a signal or a timeout); output: (no output)',
    ],
  ];
  it.each(failing)('fails: %s', (_name, actual, exitCode, exp, expected, got) => {
    expect(judgeText(actual, exitCode, exp)).toMatchObject({ status: 'failed', expected, actual: got });
  });

  it('mentions a non-zero exit status when the text is wrong', () => {
    const outcome = judgeText('sh: hostnme: not found\n', 127, { equals: 'runc-demo' });
    expect(outcome).toMatchObject({ status: 'failed', actual: 'sh: hostnme: not found' });
    expect(outcome.message).toContain('exited with status 127');
  });

  it('reports an invalid pattern as an error of the check, not a failure', () => {
    expect(judgeText('x', 0, { matches: '(' })).toMatchObject({ status: 'error' });
  });

  it('shortens a long output to its first lines', () => {
    const long = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n');
    const outcome = judgeText(long, 0, { equals: 'x' });
    expect(outcome.status === 'failed' && outcome.actual).toMatch(/line 19\n… \(10 more lines\)$/);
  });

  it('says what passed', () => {
    expect(judgeText('runc-demo\n', 0, { exit: 0, equals: 'runc-demo' }).message).toBe('exit status 0; output is "runc-demo"');
  });
});

describe('judgeOutput', () => {
  it('passes with no expectations, as there is no exit status to judge', () => {
    expect(judgeOutput('', {})).toMatchObject({ status: 'passed' });
  });

  it('judges the text like judgeText', () => {
    expect(judgeOutput('a\n', { lines: { min: 2 } })).toMatchObject({ status: 'failed', expected: 'at least 2 lines' });
  });
});

describe('normalize', () => {
  it.each([
    ['a \n b \n\n', 'a\n b'],
    ['\n\na', '\n\na'],
    ['', ''],
    ['   \n\t\n', ''],
  ])('turns %j into %j', (input, output) => {
    expect(normalize(input)).toBe(output);
  });
});

describe('describeLineCount', () => {
  it.each([
    [1, '1 line'],
    [3, '3 lines'],
    [{ min: 1 }, 'at least 1 line'],
    [{ max: 5 }, 'at most 5 lines'],
    [{ min: 2, max: 4 }, 'between 2 and 4 lines'],
    [{ min: 2, max: 2 }, '2 lines'],
  ] as const)('describes %j as %j', (lines, text) => {
    expect(describeLineCount(lines)).toBe(text);
  });
});
