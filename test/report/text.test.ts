import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { rollUp } from '../../src/report/class.js';
import { duration } from '../../src/report/format.js';
import { classText, reportText } from '../../src/report/text.js';
import { demoReport } from './fixtures.js';

const plain = new Chalk({ level: 0 });

describe('reportText', () => {
  it('lists each task step with its mark, time, attempts and hints, and what a failed check expected', () => {
    const lines = reportText(demoReport(), plain).split('\n');
    expect(lines[0]).toBe('Progress of alice on ws-07');
    expect(lines.slice(3)).toEqual([
      '1  demo  A demo lab',
      '   stuck at “Write the greeting” · 1 of 4 tasks passed · 1 of 1 reading steps read · 7m 00s spent (about 15 min expected)',
      '   ✓ Say hello                           1m 35s  2 attempts  2 of 2 hints',
      '   ✗ Write the greeting                  5m 00s  3 attempts  failed',
      '       ✗ class.txt: exists',
      '           could not check: The check could not run: EACCES <denied> & "quoted"',
      '       ✗ `cat greeting.txt`: output is "hello class"',
      '           expected: hello class',
      '           actual:   hello\\x1b[0m <world>',
      '                     second line',
      '   ↷ Sign it                                 5s  0 attempts  skipped',
      '   · Send it                            not reached',
      '',
    ]);
  });

  it('gives a lab not started in one line', () => {
    expect(reportText(demoReport(null), plain)).toContain('   not started · 4 tasks · 1 reading steps · about 15 min\n');
  });
});

describe('classText', () => {
  it('prints a row of marks per student under numbered step columns, and the steps with their numbers', () => {
    const text = classText(rollUp([{ file: 'a.json', report: demoReport() }]), plain);
    expect(text.split('\n')).toEqual([
      '1 student × 4 task steps, where most are stuck first',
      '',
      '             1  2  3  4',
      'alice@ws-07  ✗  ·  ✓  ↷   2/4  7m 00s',
      '',
      '✓ done  ✗ failed  ↷ skipped  · not reached',
      '',
      'Steps',
      '  1  demo  Write the greeting  1 of 1 stuck, median 5m 00s',
      '  2  demo  Send it             1 of 1 stuck',
      '  3  demo  Say hello           0 of 1 stuck, median 1m 35s',
      '  4  demo  Sign it             0 of 1 stuck, 1 skipped, median 5s',
      '',
    ]);
  });
});

describe('duration', () => {
  it.each([
    [0, '0s'],
    [0.4, '0s'],
    [42, '42s'],
    [60, '1m 00s'],
    [185, '3m 05s'],
    [3599, '59m 59s'],
    [3720, '1h 02m'],
  ])('writes %d seconds as %s', (seconds, text) => expect(duration(seconds)).toBe(text));
});
