// The report and the class roll-up as terminal text. Colour is the caller's choice (a Chalk instance
// at level 0 writes none); the marks and words carry the meaning on their own.
import type { ChalkInstance } from 'chalk';
import type { ClassRollUp } from './class.js';
import { count, duration, STATE_WORDS, STATUS_MARKS, STATUS_WORDS, visibleControls, when } from './format.js';
import { type LabReport, type Report, type ReportStepStatus, type StepReport } from './model.js';

const TITLE_WIDTH = 34;

function mark(c: ChalkInstance, status: ReportStepStatus): string {
  const glyph = STATUS_MARKS[status];
  if (status === 'passed' || status === 'read') return c.green(glyph);
  if (status === 'failed' || status === 'error') return c.red(glyph);
  if (status === 'skipped') return c.yellow(glyph);
  return c.dim(glyph);
}

export function reportText(report: Report, c: ChalkInstance): string {
  const { platform, release, arch } = report.machine;
  const lines = [
    c.bold(`Progress of ${report.user} on ${report.host}`),
    c.dim(`${platform} ${release} ${arch} · ocilab ${report.ocilab} · ${when(report.generatedAt)}`),
  ];
  for (const lab of report.labs) lines.push('', ...labText(lab, c));
  return `${lines.join('\n')}\n`;
}

function labText(lab: LabReport, c: ChalkInstance): string[] {
  const tasks = lab.steps.filter((s) => s.kind === 'task');
  const reading = lab.steps.filter((s) => s.kind === 'reading');
  const current = lab.steps.find((s) => s.id === lab.current);
  const state = lab.state === 'failed' && current ? `stuck at “${current.title}”` : STATE_WORDS[lab.state];
  const facts =
    lab.state === 'not-started'
      ? [state, count(tasks.length, 'task'), `${reading.length} reading steps`, ...(lab.duration ? [`about ${lab.duration}`] : [])]
      : [
          state,
          `${tasks.filter((s) => s.status === 'passed').length} of ${count(tasks.length, 'task')} passed`,
          `${reading.filter((s) => s.status === 'read').length} of ${reading.length} reading steps read`,
          `${duration(lab.seconds)} spent${lab.duration ? ` (about ${lab.duration} expected)` : ''}`,
        ];
  const lines = [`${c.bold(`${lab.number}  ${lab.id}`)}  ${lab.title}`, `   ${facts.join(' · ')}`];
  if (lab.state === 'not-started') return lines;
  for (const step of tasks) lines.push(...stepText(step, c));
  return lines;
}

function stepText(step: StepReport, c: ChalkInstance): string[] {
  const title = step.title.length > TITLE_WIDTH ? `${step.title.slice(0, TITLE_WIDTH - 1)}…` : step.title.padEnd(TITLE_WIDTH);
  const facts =
    step.status === 'pending'
      ? [STATUS_WORDS.pending]
      : [
          duration(step.seconds).padStart(7),
          count(step.attempts, 'attempt'),
          ...(step.hints > 0 ? [`${step.hints} of ${count(step.hintsAvailable, 'hint')}`] : []),
          ...(step.way ? [`with ${step.way}`] : []),
          ...(step.status !== 'passed' ? [STATUS_WORDS[step.status]] : []),
        ];
  const lines = [`   ${mark(c, step.status)} ${title} ${c.dim(facts.join('  '))}`];
  if (step.status === 'failed' || step.status === 'error') {
    for (const check of step.checks.filter((k) => k.status === 'failed' || k.status === 'error')) {
      lines.push(`       ${c.red('✗')} ${check.label}`);
      if (check.status === 'failed') {
        lines.push(c.dim(labelled('expected: ', check.expected ?? '')), c.dim(labelled('actual:   ', check.actual ?? '')));
      } else {
        lines.push(c.dim(labelled('could not check: ', check.message ?? '')));
      }
    }
    if (!step.checks.some((k) => k.status === 'failed' || k.status === 'error')) lines.push(c.dim('       a command of this step failed'));
  }
  return lines;
}

/** A value under its label, its further lines lined up with the first, control characters written out. */
function labelled(label: string, value: string): string {
  const indent = ' '.repeat(11);
  return `${indent}${label}${visibleControls(value).replaceAll('\n', `\n${indent}${' '.repeat(label.length)}`)}`;
}

export const CLASS_LEGEND = '✓ done  ✗ failed  ↷ skipped  · not reached';

export function classText(roll: ClassRollUp, c: ChalkInstance): string {
  const nameWidth = Math.max(7, ...roll.students.map((s) => visibleControls(s.name).length));
  const header = `${''.padEnd(nameWidth)}${roll.steps.map((_, i) => String(i + 1).padStart(3)).join('')}`;
  const rows = roll.students.map((student) => {
    const cells = student.cells.map((status) => `  ${mark(c, status)}`).join('');
    return `${visibleControls(student.name).padEnd(nameWidth)}${cells}   ${student.done}/${roll.steps.length}  ${duration(student.seconds)}`;
  });
  const labWidth = Math.max(...roll.steps.map((s) => s.lab.length));
  const titleWidth = Math.max(...roll.steps.map((s) => visibleControls(s.title).length));
  const key = roll.steps.map((step, i) => {
    const stats = [`${step.stuck} of ${roll.students.length} stuck`, ...(step.skipped > 0 ? [`${step.skipped} skipped`] : [])];
    if (step.medianSeconds > 0) stats.push(`median ${duration(step.medianSeconds)}`);
    return `${String(i + 1).padStart(3)}  ${visibleControls(step.lab).padEnd(labWidth)}  ${visibleControls(step.title).padEnd(titleWidth)}  ${c.dim(stats.join(', '))}`;
  });
  return [
    c.bold(`${count(roll.students.length, 'student')} × ${count(roll.steps.length, 'task step')}, where most are stuck first`),
    '',
    c.dim(header),
    ...rows,
    '',
    c.dim(CLASS_LEGEND),
    '',
    c.bold('Steps'),
    ...key,
    '',
  ].join('\n');
}
