// Judging a process's exit status and printed text against a check's expectations. Pure, so every
// check that looks at output (command, output, probe) judges it the same way.
import type { LineCount, TextExpectations } from '../lab/model.js';
import type { CheckResult } from './types.js';

/** How much of a long output a failure shows. */
const PREVIEW_LINES = 20;

/**
 * Judges `actual` (what the process printed) and its exit status. `exitCode` is undefined when the
 * process did not exit by itself (a signal, a timeout). With no expectation at all, exit 0 is expected.
 */
export function judgeText(actual: string, exitCode: number | undefined, exp: TextExpectations): CheckResult {
  const expectedExit = exp.exit ?? (hasTextExpectation(exp) ? undefined : 0);
  const text = normalize(actual);
  if (expectedExit !== undefined && exitCode !== expectedExit) {
    return {
      status: 'failed',
      message: `The command ${exitCode === undefined ? 'did not exit by itself' : `exited with status ${exitCode}`}, not ${expectedExit}.`,
      expected: `exit status ${expectedExit}`,
      actual: `${describeExit(exitCode)}; output: ${preview(text)}`,
    };
  }
  const result = judgeOutput(actual, exp);
  if (result.status === 'failed' && exitCode !== undefined && exitCode !== 0 && expectedExit === undefined) {
    // A failing command explains most wrong outputs ("sh: hostnme: not found").
    return { ...result, message: `${result.message} The command exited with status ${exitCode}.` };
  }
  if (result.status === 'passed' && expectedExit !== undefined) {
    return { status: 'passed', message: joinPassed([`exit status ${expectedExit}`, result.message]) };
  }
  return result;
}

/** Judges only the text (no exit status known, e.g. a step's recorded output). No expectation passes. */
export function judgeOutput(actual: string, exp: TextExpectations): CheckResult {
  const text = normalize(actual);
  const passed: string[] = [];

  if (exp.equals !== undefined) {
    const expected = normalize(exp.equals);
    if (text !== expected) {
      return {
        status: 'failed',
        message: `The output is not ${quote(expected)}.`,
        expected: expected === '' ? '(no output)' : expected,
        actual: preview(text),
      };
    }
    passed.push(`output is ${quote(expected)}`);
  }

  if (exp.contains !== undefined) {
    const needle = normalize(exp.contains);
    if (!text.includes(needle)) {
      return {
        status: 'failed',
        message: `The output does not contain ${quote(needle)}.`,
        expected: `output containing ${quote(needle)}`,
        actual: preview(text),
      };
    }
    passed.push(`output contains ${quote(needle)}`);
  }

  if (exp.matches !== undefined) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(exp.matches, 'm');
    } catch (error) {
      return {
        status: 'error',
        message: `The check's pattern /${exp.matches}/ is not a valid regular expression: ${(error as Error).message}`,
      };
    }
    if (!pattern.test(text)) {
      return {
        status: 'failed',
        message: `The output does not match /${exp.matches}/.`,
        expected: `output matching /${exp.matches}/`,
        actual: preview(text),
      };
    }
    passed.push(`output matches /${exp.matches}/`);
  }

  if (exp.lines !== undefined) {
    const count = lineCount(text);
    if (!countFits(count, exp.lines)) {
      return {
        status: 'failed',
        message: `The output has ${plural(count, 'line')}, expected ${describeLineCount(exp.lines)}.`,
        expected: describeLineCount(exp.lines),
        actual: count === 0 ? '0 lines (no output)' : `${plural(count, 'line')}: ${preview(text)}`,
      };
    }
    passed.push(`${plural(count, 'line')} of output`);
  }

  return { status: 'passed', message: joinPassed(passed) || 'output recorded' };
}

/**
 * The text as compared: trailing whitespace of every line and trailing blank lines removed, so that
 * `echo runc-demo` equals `runc-demo`, and `\r\n` equals `\n`.
 */
export function normalize(text: string): string {
  const lines = text.split('\n').map((line) => line.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n');
}

/** "3 lines", "at least 1 line", "between 2 and 5 lines". */
export function describeLineCount(lines: LineCount): string {
  if (typeof lines === 'number') return plural(lines, 'line');
  const { min, max } = lines;
  if (min !== undefined && max !== undefined) return min === max ? plural(min, 'line') : `between ${min} and ${max} lines`;
  if (min !== undefined) return `at least ${plural(min, 'line')}`;
  if (max !== undefined) return `at most ${plural(max, 'line')}`;
  return 'any number of lines';
}

function hasTextExpectation(exp: TextExpectations): boolean {
  return exp.equals !== undefined || exp.contains !== undefined || exp.matches !== undefined || exp.lines !== undefined;
}

function lineCount(normalized: string): number {
  return normalized === '' ? 0 : normalized.split('\n').length;
}

function countFits(count: number, lines: LineCount): boolean {
  if (typeof lines === 'number') return count === lines;
  return (lines.min === undefined || count >= lines.min) && (lines.max === undefined || count <= lines.max);
}

function describeExit(exitCode: number | undefined): string {
  return exitCode === undefined ? 'no exit status (stopped by a signal or a timeout)' : `exit status ${exitCode}`;
}

/** The output as a failure shows it: all of it when short, the first lines when long. */
function preview(normalized: string): string {
  if (normalized === '') return '(no output)';
  const lines = normalized.split('\n');
  if (lines.length <= PREVIEW_LINES) return normalized;
  return `${lines.slice(0, PREVIEW_LINES).join('\n')}\n… (${lines.length - PREVIEW_LINES} more lines)`;
}

function quote(text: string): string {
  return JSON.stringify(text);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function joinPassed(parts: string[]): string {
  return parts.filter(Boolean).join('; ');
}
