// Tables fitted to the terminal: the widths chosen, and what cli-table3 draws with them.
import { describe, expect, it } from 'vitest';
import { drawTable, fitColumns } from '../../src/render/table.js';

describe('fitColumns', () => {
  it.each<[string, { widest: number; longestWord: number }[], number, number[]]>([
    [
      'keeps every column as wide as its widest cell when the table fits',
      [
        { widest: 10, longestWord: 4 },
        { widest: 20, longestWord: 6 },
      ],
      80,
      [12, 22],
    ],
    [
      'narrows the widest columns to one width, keeping the narrow one',
      [
        { widest: 20, longestWord: 4 },
        { widest: 80, longestWord: 6 },
        { widest: 70, longestWord: 6 },
      ],
      100,
      [22, 37, 37],
    ],
    [
      'never narrows a column below its longest word',
      [
        { widest: 60, longestWord: 50 },
        { widest: 60, longestWord: 5 },
      ],
      70,
      [52, 15],
    ],
    [
      'runs past the width rather than cut words that cannot fit',
      [
        { widest: 60, longestWord: 50 },
        { widest: 60, longestWord: 40 },
      ],
      70,
      [52, 42],
    ],
  ])('%s', (_, columns, width, expected) => {
    expect(fitColumns(columns, width)).toEqual(expected);
  });
});

describe('drawTable', () => {
  const header = ['', 'cgroup v1', 'cgroup v2'];
  const rows = [
    ['memory + swap', 'memory/<path>/memory.memsw.limit_in_bytes (the sum)', '<path>/memory.swap.max (swap alone)'],
    ['who has it', 'older distributions, and machines booted with systemd.unified_cgroup_hierarchy=0', 'Debian 11 and later'],
  ];

  const words = (drawn: string) => drawn.replace(/[│┌┐└┘├┤┬┴┼─]/g, ' ').split(/\s+/);

  it.each([80, 100])('draws within %i columns, wrapping cells and keeping every word whole', (width) => {
    const drawn = drawTable(header, rows, width, false);
    const lines = drawn.split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(width);
    expect(drawn).not.toContain('…');
    for (const word of rows.flat().join(' ').split(/\s+/)) expect(words(drawn)).toContain(word);
  });

  it('keeps words whole where they cannot fit, running past the width instead', () => {
    const drawn = drawTable(header, rows, 60, false);
    expect(drawn).not.toContain('…');
    expect(words(drawn)).toContain('memory/<path>/memory.memsw.limit_in_bytes');
    expect(Math.max(...drawn.split('\n').map((line) => line.length))).toBeGreaterThan(60);
  });

  it('takes no room for colour sequences in the cells', () => {
    const drawn = drawTable(['a', 'b'], [['\u001b[33mcode\u001b[39m', 'plain']], 40, false);
    expect(drawn.split('\n')[0]).toBe('┌──────┬───────┐');
  });
});
