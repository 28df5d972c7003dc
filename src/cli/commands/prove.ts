// ocilab prove <lab>: for lab authors, shows that every check fails before its step and passes after it.
import { isAbsolute, relative } from 'node:path';
import { Chalk, type ChalkInstance } from 'chalk';
import { CancelledError, EXIT } from '../../errors.js';
import type { CheckRun, ProvedCheck, ProvedStep, ProveReport, Verdict } from '../../runner/prove.js';
import { defineCommand } from '../command.js';
import { openCatalog } from '../workshop.js';
import { labVariables, parseVarFlags } from '../vars.js';
import { onCancel, out, useColor, WORKSHOP_OPTION, WORKSPACE_OPTIONS } from './shared.js';

export default defineCommand({
  about: `For lab authors: runs the lab headless in a throwaway workspace and, at every step, runs the step's
checks before its commands (each must fail) and after them (each must pass). A check marked
\`passesBefore: true\` must pass both times. Reports checks that cannot fail and checks that never
pass, each as file:line. Your own progress and workspace for the lab are not touched.

Stops at the first step that does not pass after its commands, as \`ocilab run --yes\` does.`,
  more: `Exit status: 0 every check is proven, 1 some check is not (or a step's commands failed),
2 bad usage or an invalid lab file. See docs/proving-labs.md.`,
  options: {
    use: {
      ...WORKSPACE_OPTIONS.use,
      help: 'use this way wherever a step offers it (e.g. podman, curl); repeatable: each step takes the first it offers',
    },
    var: WORKSPACE_OPTIONS.var,
    'keep-going': { type: 'boolean', help: 'go on after a step that does not pass' },
    keep: { type: 'boolean', help: 'keep the throwaway workspace and print where it is' },
    json: { type: 'boolean', help: 'print one JSON object instead of a report' },
    workshop: WORKSHOP_OPTION,
  },
  args: { min: 1, max: 1, usage: '`ocilab prove` takes one lab: a number, an id or a path, e.g. `ocilab prove labs/02-runc.md`.' },
  async run([reference], flags) {
    const catalog = await openCatalog(flags.workshop);
    const found = await catalog.find(reference as string);
    // Problems are named file:line as the author sees the file: relative to where prove was started.
    const shown = relative(process.cwd(), found.file);
    const lab = { ...found, file: shown.startsWith('..') || isAbsolute(shown) ? found.file : shown };
    const vars = labVariables(lab, { ...catalog.presets(lab), ...parseVarFlags(flags.var ?? []) });
    const { proveLab } = await import('../../runner/prove.js');
    const c = new Chalk({ level: useColor() ? 1 : 0 });
    const { signal, dispose } = onCancel();
    if (!flags.json) out(`${c.bold(`Proving ${lab.title}`)} ${c.dim(`(${lab.file})`)}\n`);
    try {
      const report = await proveLab(lab, {
        vars,
        keepGoing: flags['keep-going'] ?? false,
        keep: flags.keep ?? false,
        signal,
        ...(flags.use ? { use: flags.use } : {}),
        ...(flags.json ? {} : { onStep: (step) => out(formatStep(step, c)) }),
      });
      out(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatEnd(report, c));
      return report.proven ? EXIT.ok : EXIT.failed;
    } catch (error) {
      if (signal.aborted)
        throw new CancelledError(`Stopped. ${flags.keep ? 'The workspace is kept.' : 'The throwaway workspace is removed.'}`);
      throw error;
    } finally {
      dispose();
    }
  },
});

/** What is wrong with a check, and what the author can do about it. */
const PROBLEMS: Record<Exclude<Verdict, 'ok' | 'skipped'>, { what: string; advice: string }> = {
  'cannot-fail': {
    what: "cannot fail: it passed before the step's commands ran",
    advice: 'Make it stricter, or mark it `passesBefore: true` if what it checks is meant to be there already.',
  },
  'fails-before': {
    what: "marked `passesBefore: true`, but it did not pass before the step's commands ran",
    advice: 'Remove `passesBefore` if the step is what makes it pass.',
  },
  'never-passes': {
    what: "never passes: it did not pass after the step's commands ran",
    advice: 'Compare what it expects with what the step really does; --keep keeps the workspace to look at.',
  },
};

function formatStep(step: ProvedStep, c: ChalkInstance): string {
  const way = step.way ? c.dim(` · with ${step.way}`) : '';
  const lines = [`\n${c.cyan(step.title)}${way}`];
  if (step.status === 'commands-failed') {
    lines.push(`  ${c.red('✗')} ${step.at}: the step's commands failed, so its checks prove nothing`);
    for (const notice of step.notices) lines.push(`      ${c.yellow(notice)}`);
    if (step.output) lines.push(...step.output.split('\n').map((l) => c.dim(`      | ${l}`)));
  }
  for (const check of step.checks) lines.push(...formatCheck(check, c));
  return `${lines.join('\n')}\n`;
}

function formatCheck(check: ProvedCheck, c: ChalkInstance): string[] {
  if (!check.verdict) return [`  ${c.dim('·')} ${check.label} ${c.dim(`(${check.at}, not proven)`)}`];
  if (check.verdict === 'ok') {
    const how = check.passesBefore
      ? 'passes before (passesBefore) and after'
      : `fails before${check.before?.status === 'error' ? ' (could not run yet)' : ''}, passes after`;
    return [`  ${c.green('✓')} ${check.label}`, c.dim(`      ${check.at} · ${how}`)];
  }
  if (check.verdict === 'skipped') {
    const reason = (check.after?.status === 'skipped' ? check.after : check.before)?.message ?? '';
    return [`  ${c.dim('–')} ${check.label}`, c.dim(`      ${check.at} · skipped here, not proven: ${reason}`)];
  }
  const { what, advice } = PROBLEMS[check.verdict];
  const lines = [`  ${c.red('✗')} ${check.label}`, `      ${check.at}: ${what}`];
  const run = check.verdict === 'never-passes' ? check.after : check.before;
  if (run) lines.push(...describeRun(check.verdict === 'never-passes' ? 'after' : 'before', run));
  lines.push(c.dim(`      ${advice}`));
  return lines;
}

function describeRun(when: 'before' | 'after', run: CheckRun): string[] {
  const lines = [`      ${when}: ${run.status}${run.message ? ` — ${run.message}` : ''}`];
  if (run.expected !== undefined) lines.push(`      expected: ${run.expected}`);
  if (run.actual !== undefined) lines.push(`      actual:   ${run.actual}`);
  return lines;
}

function formatEnd(report: ProveReport, c: ChalkInstance): string {
  const lines: string[] = [];
  const notReached = report.steps.filter((s) => s.status === 'not-reached');
  if (notReached.length > 0) {
    lines.push(
      '',
      c.dim(`Not reached (the run stopped at an earlier step; --keep-going goes on): ${notReached.map((s) => s.title).join(', ')}`),
    );
  }
  for (const notice of report.notices) lines.push(c.yellow(`! ${notice}`));
  if (report.kept) lines.push(c.dim(`The workspace is kept: ${report.workdir}`));

  const checks = report.steps.flatMap((s) => s.checks);
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  if (report.proven) {
    const marked = checks.filter((ch) => ch.passesBefore).length;
    const asMarked = marked > 0 ? ` (${marked} marked passesBefore pass before it, as marked)` : '';
    const skipped = checks.filter((ch) => ch.verdict === 'skipped').length;
    const where = `${count(checks.length - skipped, 'check', 'checks')} in ${count(report.steps.length, 'step', 'steps')}`;
    lines.push('', c.green(`Proven: ${where} fail before their step and pass after it${asMarked}.`));
    if (skipped > 0)
      lines.push(c.dim(`${count(skipped, 'check does', 'checks do')} not apply on this machine and could not be proven here.`));
    return `${lines.join('\n')}\n`;
  }
  const judged = (verdict: Verdict) => checks.filter((ch) => ch.verdict === verdict).length;
  const failedSteps = report.steps.filter((s) => s.status === 'commands-failed').length;
  const parts = [
    judged('cannot-fail') > 0 ? `${count(judged('cannot-fail'), 'check cannot', 'checks cannot')} fail` : '',
    judged('fails-before') > 0 ? `${count(judged('fails-before'), 'check', 'checks')} marked passesBefore fail before` : '',
    judged('never-passes') > 0 ? count(judged('never-passes'), 'check never passes', 'checks never pass') : '',
    failedSteps > 0 ? `the commands of ${count(failedSteps, 'step', 'steps')} failed` : '',
    notReached.length > 0 ? `${count(notReached.length, 'step', 'steps')} not reached` : '',
  ].filter(Boolean);
  lines.push('', c.bold(`Not proven: ${parts.join(', ')}.`));
  for (const check of checks)
    if (check.verdict && check.verdict !== 'ok' && check.verdict !== 'skipped')
      lines.push(`${check.at}: ${check.verdict.replace('-', ' ')}: ${check.label}`);
  for (const step of report.steps) if (step.status === 'commands-failed') lines.push(`${step.at}: commands failed: ${step.title}`);
  return `${lines.join('\n')}\n`;
}
