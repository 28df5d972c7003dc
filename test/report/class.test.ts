import { describe, expect, it } from 'vitest';
import { classJson } from '../../src/report/class-json.js';
import { rollUp } from '../../src/report/class.js';
import type { Report, ReportStepStatus } from '../../src/report/model.js';
import { demoReport } from './fixtures.js';

/** The demo report of `user`, with the given statuses and seconds for its task steps. */
function student(user: string, steps: Record<string, [ReportStepStatus, number]>): Report {
  const report = demoReport();
  report.user = user;
  for (const step of report.labs[0]?.steps ?? []) {
    const [status, seconds] = steps[step.id] ?? ['pending', 0];
    if (step.kind === 'task') Object.assign(step, { status, seconds });
  }
  return report;
}

describe('rollUp', () => {
  const roll = rollUp([
    {
      file: 'a.json',
      report: student('ann', { 'say-hello': ['passed', 60], 'write-the-greeting': ['failed', 500], 'sign-it': ['pending', 0] }),
    },
    {
      file: 'b.json',
      report: student('ben', {
        'say-hello': ['passed', 100],
        'write-the-greeting': ['passed', 200],
        'sign-it': ['skipped', 5],
        'send-it': ['passed', 50],
      }),
    },
    { file: 'c.json', report: student('cat', { 'say-hello': ['started', 30] }) },
  ]);

  it('has one column per task step, most stuck first, then longest median time, then lab order', () => {
    expect(roll.steps.map(({ id, stuck, skipped, medianSeconds }) => ({ id, stuck, skipped, medianSeconds }))).toEqual([
      { id: 'write-the-greeting', stuck: 2, skipped: 0, medianSeconds: 350 },
      { id: 'send-it', stuck: 2, skipped: 0, medianSeconds: 50 },
      { id: 'sign-it', stuck: 2, skipped: 1, medianSeconds: 5 },
      { id: 'say-hello', stuck: 1, skipped: 0, medianSeconds: 60 },
    ]);
  });

  it("has one row per student with each step's status in column order and the steps done", () => {
    expect(roll.students.map(({ name, cells, done }) => ({ name, cells, done }))).toEqual([
      { name: 'ann@ws-07', cells: ['failed', 'pending', 'pending', 'passed'], done: 1 },
      { name: 'ben@ws-07', cells: ['passed', 'passed', 'skipped', 'passed'], done: 4 },
      { name: 'cat@ws-07', cells: ['pending', 'pending', 'pending', 'started'], done: 0 },
    ]);
  });

  it('counts every second a student spent, reading steps included', () => {
    expect(roll.students[0]?.seconds).toBe(20 + 60 + 500);
  });

  it('says where each student is in each lab: its state, and the next step while it is not finished', () => {
    const untouched = demoReport(null);
    const labs = rollUp([
      { file: 'a.json', report: demoReport() },
      { file: 'b.json', report: untouched },
    ]).students.map((s) => s.labs);
    expect(labs).toEqual([
      [{ id: 'demo', state: 'failed', current: 'write-the-greeting' }],
      [{ id: 'demo', state: 'not-started', current: 'read-this-first' }],
    ]);
  });

  it('tells apart two reports of the same user and host by their file names', () => {
    const same = rollUp([
      { file: 'x/one.json', report: demoReport() },
      { file: 'y/two.json', report: demoReport() },
    ]);
    expect(same.students.map((s) => s.name)).toEqual(['alice@ws-07 (one.json)', 'alice@ws-07 (two.json)']);
  });

  it('takes the steps of every report, and marks a step a report lacks as not reached', () => {
    const older = demoReport();
    older.labs[0]?.steps.splice(4, 1);
    const both = rollUp([
      { file: 'old.json', report: older },
      { file: 'new.json', report: demoReport() },
    ]);
    expect(both.steps.find((s) => s.id === 'send-it')?.stuck).toBe(2);
    expect(both.students[0]?.cells[both.steps.findIndex((s) => s.id === 'send-it')]).toBe('pending');
  });
});

describe('classJson', () => {
  it('is the roll-up as a marked, versioned document, with the files left out', () => {
    const roll = rollUp([{ file: 'a.json', report: demoReport() }]);
    const unread = [{ file: 'b.json', reason: 'not valid JSON' }];
    const document = JSON.parse(classJson(roll, { unread, generatedAt: '2025-03-14T10:00:00.000Z', ocilab: '0.1.0' })) as unknown;
    expect(document).toEqual({
      format: 'ocilab-class',
      version: 1,
      generatedAt: '2025-03-14T10:00:00.000Z',
      ocilab: '0.1.0',
      steps: roll.steps,
      students: roll.students,
      unread,
    });
  });
});
