import { describe, expect, it } from 'vitest';
import type { LearnerCommand } from '../../src/checks/types.js';
import {
  bound,
  COMMANDS_KEPT,
  keepCommands,
  OUTPUT_LIMIT,
  parseTranscript,
  STEP_OUTPUT_LIMIT,
  terminalText,
} from '../../src/runner/transcript.js';

const B = (start = '1796113061.5') => `\u001b]6973;B;${start}\u0007`;
const E = (n: number) => `\u001b]6973;E;${n}\u0007`;
const record = (n: number, line: string, exit = 0, start = '1796113061.5', end = '1796113062.75') =>
  JSON.stringify({ n, exit, start, end, line });

describe('parseTranscript', () => {
  it('joins each record with the output between its marks', () => {
    const typescript = `Script started on …\n$ curl …\r\n${B()}latest\r\n1.36\r\n${E(7)}$ false\r\n${B()}${E(8)}$ `;
    const commands = parseTranscript(`${record(7, 'curl -sL x | jq -r .tags[]')}\n${record(8, 'false', 1)}\n`, typescript);
    expect(commands).toEqual([
      { line: 'curl -sL x | jq -r .tags[]', exit: 0, seconds: 1.3, at: new Date(1796113061500).toISOString(), output: 'latest\n1.36\n' },
      { line: 'false', exit: 1, seconds: 1.3, at: new Date(1796113061500).toISOString(), output: '' },
    ]);
  });

  it.each<[string, string, string]>([
    ['colours and bracketed paste', '\u001b[?2004l\u001b[1;32mok\u001b[0m\r\n', 'ok\n'],
    ['a progress bar redrawn after CR', '10%\r50%\r100%\r\ndone\r\n', '100%\ndone\n'],
    ['a window title', '\u001b]0;user@host\u0007hi\r\n', 'hi\n'],
    ['a backspace and a bell', 'a\u0008b\u0007\r\n', 'ab\n'],
  ])('shows the terminal text without %s', (_name, raw, text) => {
    expect(terminalText(raw)).toBe(text);
  });

  it('takes output only between a BEGIN and its END: what a hook prints after END is no command’s', () => {
    const typescript = `${B()}one\r\n${E(1)}ocilab: 1 of 2 checks pass\r\n$ \r\n${B()}two\r\n${E(2)}`;
    const commands = parseTranscript(`${record(1, 'a')}\n${record(2, 'b')}`, typescript);
    expect(commands.map((c) => c.output)).toEqual(['one\n', 'two\n']);
  });

  it('leaves out ocilab check, half-written records, and reads a comma as the decimal point', () => {
    const records = [record(1, 'ocilab check'), '{"n":2,"exit":0,"li', record(3, 'ls', 0, '10,25', '11,5')].join('\n');
    expect(parseTranscript(records, '')).toEqual([{ line: 'ls', exit: 0, seconds: 1.3, at: new Date(10250).toISOString(), output: '' }]);
  });

  it('keeps a command whose output marks never came (the shell was killed while it ran)', () => {
    expect(parseTranscript(record(4, 'sleep 100', 130), `${B()}zz`)).toMatchObject([{ line: 'sleep 100', exit: 130, output: '' }]);
  });
});

describe('bounds', () => {
  it('keeps the head and tail of a long output, with a note of what was left out', () => {
    const text = 'h'.repeat(OUTPUT_LIMIT.head) + 'm'.repeat(1000) + 't'.repeat(OUTPUT_LIMIT.tail);
    const kept = bound(text);
    expect(kept.startsWith('h'.repeat(OUTPUT_LIMIT.head))).toBe(true);
    expect(kept.endsWith('t'.repeat(OUTPUT_LIMIT.tail))).toBe(true);
    expect(kept).toContain('[… 1000 characters left out by ocilab …]');
    expect(kept).not.toContain('m');
    expect(bound('short')).toBe('short');
  });

  it('keeps the latest commands of a step, and drops the oldest outputs first', () => {
    const command = (i: number, size: number): LearnerCommand => ({ line: `c${i}`, exit: 0, seconds: 0, at: '', output: 'x'.repeat(size) });
    const many = Array.from({ length: COMMANDS_KEPT + 5 }, (_, i) => command(i, 10));
    expect(keepCommands(many.slice(0, 50), many.slice(50)).map((c) => c.line)).toEqual(many.slice(5).map((c) => c.line));
    const big = STEP_OUTPUT_LIMIT / 2 + 1;
    const kept = keepCommands([command(1, big)], [command(2, big), command(3, 10)]);
    expect(kept.map((c) => c.output.length)).toEqual([expect.any(Number), big, 10]);
    expect(kept[0]!.output).toMatch(/output not kept/);
  });
});
