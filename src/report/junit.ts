// The report as JUnit XML, for CI graders: one testsuite per lab, one testcase per check. Steps not
// done (skipped, or not reached) give skipped testcases; a check that could not run gives an error.
import { duration, visibleControls } from './format.js';
import { failedByCommand, type CheckReport, type LabReport, type Report, type StepReport } from './model.js';

interface Testcase {
  name: string;
  classname: string;
  seconds: number;
  outcome: { kind: 'passed' } | { kind: 'failure' | 'error' | 'skipped'; message: string; detail?: string };
}

const SKIPPED_BECAUSE: Partial<Record<StepReport['status'], string>> = {
  skipped: 'the learner skipped this step',
  started: 'the learner opened a hint but has not tried this step yet',
  pending: 'the learner has not reached this step',
};

function testcases(lab: LabReport, step: StepReport): Testcase[] {
  if (step.kind === 'reading') return [];
  const classname = `${lab.id}.${step.id}`;
  const skipped = SKIPPED_BECAUSE[step.status];
  const cases: Testcase[] = step.checks.map((check) => ({
    name: `${step.title}: ${check.label}`,
    classname,
    seconds: 0,
    outcome: skipped ? { kind: 'skipped', message: skipped } : checkOutcome(check),
  }));
  // A step without checks, or failed by a command, still needs a testcase that says how it went.
  if (cases.length === 0 || (!skipped && failedByCommand(step))) {
    cases.push({
      name: `${step.title}: its commands`,
      classname,
      seconds: 0,
      outcome: skipped
        ? { kind: 'skipped', message: skipped }
        : failedByCommand(step)
          ? { kind: 'failure', message: 'a command of this step failed' }
          : { kind: 'passed' },
    });
  }
  // Progress keeps time per step, not per check: the step's first testcase carries it, so that the
  // testcase times add up to the suite's.
  (cases[0] as Testcase).seconds = step.seconds;
  return cases;
}

function checkOutcome(check: CheckReport): Testcase['outcome'] {
  switch (check.status) {
    case 'passed':
    case 'not-run':
      return { kind: 'passed' };
    case 'failed':
      return {
        kind: 'failure',
        message: check.message ?? 'failed',
        detail: `expected: ${check.expected ?? ''}\nactual:   ${check.actual ?? ''}`,
      };
    case 'error':
      return { kind: 'error', message: check.message ?? 'the check could not run' };
    case 'skipped':
      return { kind: 'skipped', message: check.message ?? 'does not apply here' };
  }
}

export function reportJunit(report: Report): string {
  const who = `${report.user}@${report.host}`;
  const suites = report.labs.map((lab) => ({ lab, cases: lab.steps.flatMap((step) => testcases(lab, step)) }));
  const all = suites.flatMap((s) => s.cases);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name: `ocilab: ${who}`, ...counts(all), time: seconds(sumSeconds(all)), timestamp: report.generatedAt })}>`,
  ];
  for (const [index, { lab, cases }] of suites.entries()) {
    lines.push(
      `  <testsuite${attributes({
        name: `${lab.number} ${lab.id}: ${lab.title}`,
        id: index,
        package: 'ocilab',
        ...counts(cases),
        time: seconds(sumSeconds(cases)),
        timestamp: lab.lastActivity ?? report.generatedAt,
        hostname: report.host,
      })}>`,
      '    <properties>',
      ...Object.entries({
        user: report.user,
        ocilab: report.ocilab,
        machine: `${report.machine.platform} ${report.machine.release} ${report.machine.arch}`,
        state: lab.state,
        'time spent': duration(lab.seconds),
      }).map(([name, value]) => `      <property${attributes({ name, value })}/>`),
      '    </properties>',
    );
    for (const c of cases) {
      const open = `    <testcase${attributes({ name: c.name, classname: c.classname, time: seconds(c.seconds) })}`;
      if (c.outcome.kind === 'passed') {
        lines.push(`${open}/>`);
        continue;
      }
      const { kind, message, detail } = c.outcome;
      const type: Record<string, string> = kind === 'skipped' ? {} : { type: kind === 'failure' ? 'CheckFailed' : 'CheckError' };
      const element = `<${kind}${attributes({ message, ...type })}`;
      lines.push(`${open}>`, detail ? `      ${element}>${text(detail)}</${kind}>` : `      ${element}/>`, '    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

function counts(cases: readonly Testcase[]): Record<'tests' | 'failures' | 'errors' | 'skipped', number> {
  const of = (kind: Testcase['outcome']['kind']) => cases.filter((c) => c.outcome.kind === kind).length;
  return { tests: cases.length, failures: of('failure'), errors: of('error'), skipped: of('skipped') };
}

const sumSeconds = (cases: readonly Testcase[]) => cases.reduce((sum, c) => sum + c.seconds, 0);

const seconds = (n: number) => n.toFixed(3);

function attributes(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([name, value]) => ` ${name}="${attribute(String(value))}"`)
    .join('');
}

function text(value: string): string {
  return visibleControls(value).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Also keeps tabs and line breaks, which a parser would otherwise turn into spaces. */
function attribute(value: string): string {
  return text(value).replaceAll('"', '&quot;').replaceAll('\n', '&#10;').replaceAll('\r', '&#13;').replaceAll('\t', '&#9;');
}
